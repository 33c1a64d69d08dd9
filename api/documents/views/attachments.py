"""Attachments: upload (multipart), download (as attachment, nosniff), remove.
Docs: docs/documents.md#attachments.
"""

from __future__ import annotations

import logging

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.documents import actions, selectors
from api.documents import attachments as files
from api.documents.serializers import AttachmentSerializer, AttachmentUploadSerializer
from api.documents.views.common import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_409,
    ERR_413,
    ERR_415,
    ERR_422,
    IDEMPOTENCY_HEADER,
    errors,
    path_id,
)

logger = logging.getLogger(__name__)


class AttachmentUploadView(generics.GenericAPIView):
    """Multipart is accepted here only. The body limit of this path is
    GOVDESK_ATTACHMENT_MAX_BYTES plus the multipart envelope (GOVDESK_BODY_LIMITS)."""

    parser_classes = [MultiPartParser]
    serializer_class = AttachmentUploadSerializer

    @extend_schema(
        tags=["documents"],
        summary="Attach a file (type decided from the content)",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_409, ERR_413, ERR_415, ERR_422),
        },
    )
    @idempotent
    def post(self, request: Request, document_id: int) -> Response:
        user = current_user(request)
        document = selectors.document_or_404(user, path_id(document_id))
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError(
                "validation_error", fields={"file": [t("请选择文件。", "A file is required.")]}
            )
        attachment = actions.add_attachment(document.pk, user, upload)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AnyAccept(BaseContentNegotiation):
    """Downloads answer with the file's own type whatever the client's Accept says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentDetailView(generics.GenericAPIView):
    content_negotiation_class = AnyAccept
    serializer_class = AttachmentSerializer

    @extend_schema(
        tags=["documents"],
        summary="Download an attachment",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="the file, with its detected Content-Type, "
                "Content-Disposition: attachment (RFC 5987 filename*), nosniff",
            ),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, document_id: int, attachment_id: int):
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        attachment = selectors.attachment_or_404(document, path_id(attachment_id))
        path = files.path_for(attachment.storage_key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            logger.error("attachment %s: file %s is missing", attachment.pk, path)
            raise NotFound() from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
        response["Content-Length"] = str(attachment.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        response["ETag"] = f'"{attachment.sha256[:32]}"'
        return response

    @extend_schema(
        tags=["documents"],
        summary="Remove an attachment from an editable document",
        request=None,
        responses={204: None, **errors(ERR_403, ERR_404, ERR_409)},
    )
    def delete(self, request: Request, document_id: int, attachment_id: int) -> Response:
        actions.remove_attachment(
            path_id(document_id), path_id(attachment_id), current_user(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
