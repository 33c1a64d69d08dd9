"""URLs of api.integrations.esupervision, mounted under /api/v1/. Docs: docs/integrations.md#e-supervision."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
