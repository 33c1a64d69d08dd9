"""Seal URLs: verification and the seal step. Docs: docs/seals.md."""

from django.urls import path

from api.seals.views import DocumentVerifyView, SealTaskView, VerifyPdfView

urlpatterns = [
    path("seals/verify/", VerifyPdfView.as_view(), name="seal-verify"),
    path("tasks/<int:pk>/seal/", SealTaskView.as_view(), name="task-seal"),
    path(
        "documents/<int:document_id>/verify/",
        DocumentVerifyView.as_view(),
        name="document-verify",
    ),
]
