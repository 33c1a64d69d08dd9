"""URLs of api.integrations.basedata, mounted under /api/v1/. Docs: docs/integrations.md#base-data."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
