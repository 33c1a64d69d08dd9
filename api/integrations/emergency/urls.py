"""URLs of api.integrations.emergency, mounted under /api/v1/. Docs: docs/integrations.md#emergency."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
