"""A post's attachments and cover over HTTP. Docs: docs/publishing.md#attachments-and-cover."""

from __future__ import annotations

import logging

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.schema import ERR_400, ERR_403, ERR_404, error_response, errors
from api.documents import attachments as store
from api.publishing import actions, selectors
from api.publishing.models import PostAttachment
from api.publishing.serializers import (
    PostAttachmentSerializer,
    PostDetailSerializer,
    attachment_item,
)
from api.publishing.views.common import IDEMPOTENCY_HEADER, TAGS, actor, path_id
from api.publishing.views.posts import detail_response

logger = logging.getLogger(__name__)
FILE_ERRORS = {
    413: error_response("attachment_too_large"),
    415: error_response("attachment_type_refused"),
    422: error_response("classified_refused"),
}


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class AnyAccept(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _upload(request: Request):
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(
            "validation_error", fields={"file": [t("请选择文件。", "A file is required.")]}
        )
    return upload


def _send(storage_key: str, name: str, content_type: str, etag: str, inline: bool) -> FileResponse:
    path = store.path_for(storage_key)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        logger.error("post file %s is missing", path)
        raise NotFound() from None
    response = FileResponse(
        handle, as_attachment=not inline, filename=name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400" if inline else "private, no-store"
    response["ETag"] = f'"{etag}"'
    return response


class AttachmentUploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=TAGS,
        operation_id="posts_attachment_add",
        summary="Attach a file to a post (the documents' content checks apply)",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": UploadSerializer},
        responses={201: PostAttachmentSerializer, **errors(ERR_400, ERR_403, ERR_404, FILE_ERRORS)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        attachment = actions.add_attachment(path_id(pk), actor(request), _upload(request))
        return Response(
            attachment_item(attachment.post, attachment), status=status.HTTP_201_CREATED
        )


class AttachmentDownloadView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=TAGS,
        operation_id="posts_attachment",
        summary="Download a post's attachment",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, pk: int, attachment_id: int) -> FileResponse:
        post = selectors.post_or_404(actor(request), path_id(pk))
        attachment = PostAttachment.objects.filter(
            post=post, pk=path_id(attachment_id), deleted_at__isnull=True
        ).first()
        if attachment is None:
            raise NotFound()
        return _send(
            attachment.storage_key,
            attachment.original_name,
            attachment.content_type,
            attachment.sha256[:32],
            inline=False,
        )


class CoverView(APIView):
    parser_classes = [MultiPartParser]
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=TAGS,
        operation_id="posts_cover",
        summary="The cover image (JPEG); `size=thumb` for the 360×240 thumbnail",
        parameters=[OpenApiParameter("size", str, enum=["full", "thumb"], default="full")],
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY), **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        post = selectors.post_or_404(actor(request), path_id(pk))
        thumb = request.query_params.get("size") == "thumb"
        key = post.cover_thumb_key if thumb else post.cover_key
        if not key:
            raise NotFound()
        return _send(key, f"cover-{post.pk}.jpg", "image/jpeg", key[:32], inline=True)

    @extend_schema(
        tags=TAGS,
        operation_id="posts_cover_set",
        summary="Set the cover image (PNG, JPEG or WebP; re-encoded by Pillow)",
        parameters=[IDEMPOTENCY_HEADER],
        request={"multipart/form-data": UploadSerializer},
        responses={200: PostDetailSerializer, **errors(ERR_400, ERR_403, ERR_404, FILE_ERRORS)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        post = actions.set_cover(path_id(pk), actor(request), _upload(request))
        return Response(detail_response(actor(request), post))
