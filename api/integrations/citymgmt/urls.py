"""URLs of api.integrations.citymgmt, mounted under /api/v1/. Docs: docs/integrations.md#city-management."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
