"""URLs of api.supervision, mounted under /api/v1/. Docs: docs/supervision.md."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
