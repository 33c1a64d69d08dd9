"""URLs of api.notify, mounted under /api/v1/. Docs: docs/notifications.md."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
