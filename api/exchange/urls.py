"""URLs of api.exchange, mounted under /api/v1/. Docs: docs/exchange.md."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
