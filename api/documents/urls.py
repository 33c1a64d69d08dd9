"""Routes of the documents API. Docs: docs/documents.md#endpoints."""

from django.urls import path

from api.documents.views.attachments import AttachmentDetailView, AttachmentUploadView
from api.documents.views.documents import (
    DocumentDetailView,
    DocumentListView,
    DocumentVersionsView,
    VoidNumberView,
)
from api.documents.views.instructions import (
    InstructionImageView,
    InstructionListView,
    InstructionSheetView,
)
from api.documents.views.pages import DocumentPagesView, PageImageView, PageTextView
from api.documents.views.pdf import DocumentPdfView
from api.documents.views.previews import (
    AttachmentPreviewImageView,
    AttachmentPreviewTextView,
    AttachmentPreviewView,
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
    path("documents/<int:document_id>/pdf/", DocumentPdfView.as_view(), name="document-pdf"),
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
    path(
        "documents/<int:document_id>/attachments/<int:attachment_id>/preview/",
        AttachmentPreviewView.as_view(),
        name="document-attachment-preview",
    ),
    path(
        "documents/<int:document_id>/attachments/<int:attachment_id>/preview/pages/<int:page>/image/",
        AttachmentPreviewImageView.as_view(),
        name="document-attachment-preview-image",
    ),
    path(
        "documents/<int:document_id>/attachments/<int:attachment_id>/preview/pages/<int:page>/text/",
        AttachmentPreviewTextView.as_view(),
        name="document-attachment-preview-text",
    ),
    path("documents/<int:document_id>/pages/", DocumentPagesView.as_view(), name="document-pages"),
    path(
        "documents/<int:document_id>/pages/<int:page>/image/",
        PageImageView.as_view(),
        name="document-page-image",
    ),
    path(
        "documents/<int:document_id>/pages/<int:page>/text/",
        PageTextView.as_view(),
        name="document-page-text",
    ),
    path(
        "documents/<int:document_id>/instructions/",
        InstructionListView.as_view(),
        name="document-instructions",
    ),
    path(
        "documents/<int:document_id>/instructions/<int:instruction_id>/image/",
        InstructionImageView.as_view(),
        name="document-instruction-image",
    ),
    path(
        "documents/<int:document_id>/instruction-sheet/",
        InstructionSheetView.as_view(),
        name="document-instruction-sheet",
    ),
]
