"""Seal URLs (verification only). Docs: docs/seals.md#verification."""

from django.urls import path

from api.seals.views import VerifyPdfView

urlpatterns = [
    path("seals/verify/", VerifyPdfView.as_view(), name="seal-verify"),
]
