"""URLs of api.integrations.video, mounted under /api/v1/. Docs: docs/integrations.md#video."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
