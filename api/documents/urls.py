"""Routes of the documents API. Docs: docs/documents.md#endpoints."""

from django.urls import path

from api.documents.views.attachments import AttachmentDetailView, AttachmentUploadView
from api.documents.views.documents import (
    DocumentDetailView,
    DocumentListView,
    DocumentVersionsView,
    VoidNumberView,
)

urlpatterns = [
    path("documents/", DocumentListView.as_view(), name="documents"),
    path("documents/<int:document_id>/", DocumentDetailView.as_view(), name="document"),
    path(
        "documents/<int:document_id>/versions/",
        DocumentVersionsView.as_view(),
        name="document-versions",
    ),
    path(
        "documents/<int:document_id>/void-number/",
        VoidNumberView.as_view(),
        name="document-void-number",
    ),
    path(
        "documents/<int:document_id>/attachments/",
        AttachmentUploadView.as_view(),
        name="document-attachments",
    ),
    path(
        "documents/<int:document_id>/attachments/<int:attachment_id>/",
        AttachmentDetailView.as_view(),
        name="document-attachment",
    ),
]
