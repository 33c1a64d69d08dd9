"""URLs of api.vpn, mounted under /api/v1/. Docs: docs/vpn.md."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
