"""Attachment previews on phones: state, page images and page text of a converted
attachment. Docs: docs/reading-on-phones.md#attachment-previews.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.documents import attachments as files
from api.documents import content_guard, pages, previews, selectors
from api.documents.views.common import ERR_404, errors, path_id
from api.documents.views.pages import (
    ERR_503,
    IMAGE_MAX_AGE,
    FirstRendererNegotiation,
    PageSerializer,
    _page_number,
    _width,
    accepts_webp,
    image_etag,
)


class ContentCheckSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["pending", "clean", "flagged", "unchecked"],
        help_text="the classification guard on the attachment's text "
        "(docs/documents.md#classification-markings-in-content): flagged blocks submission",
    )
    page = serializers.IntegerField(required=False)
    line = serializers.IntegerField(required=False)
    marking = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)


class PreviewSerializer(serializers.Serializer):
    attachment = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=["pending", "ready", "failed"],
        help_text="failed: cannot preview (reason); the original stays downloadable",
    )
    reason = serializers.CharField(required=False)
    page_count = serializers.IntegerField(required=False)
    pages = PageSerializer(many=True)
    download_url = serializers.CharField()
    content_check = ContentCheckSerializer()


def _attachment(request: Request, document_id: int, attachment_id: int):
    document = selectors.document_or_404(current_user(request), path_id(document_id))
    return document, selectors.attachment_or_404(document, path_id(attachment_id))


def _ready(attachment) -> dict:
    current = previews.state(attachment.sha256)
    if current["state"] != "ready":
        raise ApiError("preview_not_ready", status_code=404)
    return current


def _content_check(attachment) -> dict:
    result = content_guard.scan_file(
        files.path_for(attachment.storage_key),
        attachment.sha256,
        attachment.kind,
        attachment.content_type,
        at_upload=False,
    )
    keys = ("state", "page", "line", "marking", "reason")
    return {key: result[key] for key in keys if key in result}


class AttachmentPreviewView(APIView):
    @extend_schema(
        tags=["documents"],
        summary="Preview of an attachment (Word/Excel/PowerPoint/WPS → pages); starts it",
        responses={200: PreviewSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, document_id: int, attachment_id: int) -> Response:
        document, attachment = _attachment(request, document_id, attachment_id)
        current = previews.request_preview(
            files.path_for(attachment.storage_key), attachment.sha256, attachment.kind
        )
        base = f"/api/v1/documents/{document.pk}/attachments/{attachment.pk}"
        count = current.get("page_count", 0) if current["state"] == "ready" else 0
        version = attachment.sha256[:16]
        body = {
            "attachment": attachment.pk,
            "state": "pending" if current["state"] == "none" else current["state"],
            "pages": [
                {
                    "index": n,
                    "width_px": list(pages.WIDTHS),
                    "text_url": f"{base}/preview/pages/{n}/text/",
                    "image_urls": {
                        str(w): f"{base}/preview/pages/{n}/image/?width={w}&v={version}"
                        for w in pages.WIDTHS
                    },
                }
                for n in range(1, count + 1)
            ],
            "download_url": f"{base}/",
            "content_check": _content_check(attachment),
        }
        if current["state"] == "ready":
            body["page_count"] = count
        if current["state"] == "failed":
            body["reason"] = current.get("reason", "not_convertible")
        return Response(body)


class AttachmentPreviewImageView(APIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        tags=["documents"],
        summary="One page of an attachment's preview as an image (WebP when accepted)",
        parameters=[OpenApiParameter("width", int, enum=list(pages.WIDTHS), required=False)],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY),
            **errors(ERR_404, ERR_503),
        },
    )
    def get(self, request: Request, document_id: int, attachment_id: int, page: int):
        _, attachment = _attachment(request, document_id, attachment_id)
        width = _width(request)
        current = _ready(attachment)
        number = _page_number(page)
        if number > current.get("page_count", 0):
            raise NotFound()
        fmt = "webp" if accepts_webp(request) else "png"
        path = previews.page_image(attachment.sha256, number, width, fmt)
        response = HttpResponse(path.read_bytes(), content_type=pages.FORMATS[fmt])
        response["ETag"] = image_etag(attachment.sha256, number, width, fmt)
        response["Cache-Control"] = f"private, max-age={IMAGE_MAX_AGE}"
        patch_vary_headers(response, ("Accept", "Authorization"))
        return response


class AttachmentPreviewTextView(APIView):
    @extend_schema(
        tags=["documents"],
        summary="The text of one page of an attachment's preview",
        responses={200: OpenApiTypes.OBJECT, **errors(ERR_404, ERR_503)},
    )
    def get(self, request: Request, document_id: int, attachment_id: int, page: int):
        _, attachment = _attachment(request, document_id, attachment_id)
        current = _ready(attachment)
        number = _page_number(page)
        if number > current.get("page_count", 0):
            raise NotFound()
        return Response({"page": number, "text": previews.page_text(attachment.sha256, number)})
