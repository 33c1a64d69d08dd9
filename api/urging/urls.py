"""URLs of api.urging, mounted under /api/v1/. Docs: docs/urging.md."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
