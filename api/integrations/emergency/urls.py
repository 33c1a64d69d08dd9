"""URLs of api.integrations.emergency, under /api/v1/. Docs: docs/integrations.md."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
