"""Reading on phones: the page list, page images and page text of a document's latest
rendering. Docs: docs/reading-on-phones.md.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.schema import error_response
from api.documents import pages
from api.documents.selectors import document_or_404
from api.documents.views.common import ERR_400, errors, path_id

IMAGE_MAX_AGE = 30 * 24 * 3600  # the listed URLs carry the rendering's hash (v=…)
ERR_404_PAGES = {404: error_response("not_found / not_rendered (no rendering yet)")}
ERR_503 = {503: error_response("render_unavailable (pdftoppm / pdftotext failed)")}


class PageSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="1-based page number")
    width_px = serializers.ListField(child=serializers.IntegerField())
    text_url = serializers.CharField()
    image_urls = serializers.DictField(child=serializers.CharField(), help_text="by width")


class PagesSerializer(serializers.Serializer):
    document = serializers.IntegerField()
    rendering_version = serializers.IntegerField()
    sha256 = serializers.CharField()
    page_count = serializers.IntegerField()
    pages = PageSerializer(many=True)


class PageTextSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    text = serializers.CharField()


class FirstRendererNegotiation(BaseContentNegotiation):
    """The image view answers in the format chosen from Accept itself (PNG or WebP);
    DRF's renderers are only used for JSON error bodies, so Accept never gives a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _page_number(value) -> int:
    number = int(value)
    if not 0 < number <= 100_000:
        raise NotFound()
    return number


def _width(request: Request) -> int:
    raw = request.query_params.get("width") or str(pages.WIDTHS[0])
    if raw not in {str(w) for w in pages.WIDTHS}:
        raise ApiError(
            "validation_error",
            fields={"width": [t("可选值：", "One of: ") + ", ".join(map(str, pages.WIDTHS))]},
        )
    return int(raw)


def accepts_webp(request: Request) -> bool:
    """True when Accept names image/webp with a non-zero quality."""
    for part in request.META.get("HTTP_ACCEPT", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() != "image/webp":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def image_etag(sha256: str, page: int, width: int, fmt: str) -> str:
    return f'"{sha256[:32]}-p{page}-w{width}-{fmt}"'


class DocumentPagesView(APIView):
    @extend_schema(
        tags=["documents"],
        summary="Pages of the latest rendering (for reading on phones)",
        responses={200: PagesSerializer, **errors(ERR_404_PAGES)},
    )
    def get(self, request: Request, document_id: int) -> Response:
        document = document_or_404(current_user(request), path_id(document_id))
        rendering = pages.latest_rendering(document)
        base = f"/api/v1/documents/{document.pk}/pages"
        version = rendering.sha256[:16]
        items = [
            {
                "index": n,
                "width_px": list(pages.WIDTHS),
                "text_url": f"{base}/{n}/text/",
                "image_urls": {
                    str(w): f"{base}/{n}/image/?width={w}&v={version}" for w in pages.WIDTHS
                },
            }
            for n in range(1, pages.page_count(rendering) + 1)
        ]
        return Response(
            {
                "document": document.pk,
                "rendering_version": rendering.version,
                "sha256": rendering.sha256,
                "page_count": len(items),
                "pages": items,
            }
        )


class PageImageView(APIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        tags=["documents"],
        summary="One page as an image (WebP when accepted, else PNG)",
        parameters=[
            OpenApiParameter("width", int, enum=list(pages.WIDTHS), required=False),
            OpenApiParameter("v", str, required=False, description="rendering hash (cache key)"),
            OpenApiParameter("If-None-Match", str, location=OpenApiParameter.HEADER),
        ],
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY),
            304: OpenApiResponse(description="not modified"),
            **errors(ERR_400, ERR_404_PAGES, ERR_503),
        },
    )
    def get(self, request: Request, document_id: int, page: int) -> HttpResponse:
        document = document_or_404(current_user(request), path_id(document_id))
        width = _width(request)
        rendering = pages.latest_rendering(document)
        number = _page_number(page)
        pages.check_page(rendering, number)
        fmt = "webp" if accepts_webp(request) else "png"
        etag = image_etag(rendering.sha256, number, width, fmt)
        version = request.query_params.get("v")
        fresh = version is None or (len(version) >= 8 and rendering.sha256.startswith(version))
        cache_control = f"private, max-age={IMAGE_MAX_AGE}" if fresh else "private, no-cache"
        tags = [tag.strip() for tag in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]
        if etag in tags or f"W/{etag}" in tags:
            response = HttpResponse(status=304)
        else:
            path = pages.page_image(rendering, number, width, fmt)
            response = HttpResponse(path.read_bytes(), content_type=pages.FORMATS[fmt])
        response["ETag"] = etag
        response["Cache-Control"] = cache_control
        patch_vary_headers(response, ("Accept", "Authorization"))
        return response


class PageTextView(APIView):
    @extend_schema(
        tags=["documents"],
        summary="The text of one page (pdftotext -layout)",
        responses={200: PageTextSerializer, **errors(ERR_404_PAGES, ERR_503)},
    )
    def get(self, request: Request, document_id: int, page: int) -> Response:
        document = document_or_404(current_user(request), path_id(document_id))
        rendering = pages.latest_rendering(document)
        number = _page_number(page)
        pages.check_page(rendering, number)
        return Response({"page": number, "text": pages.page_text(rendering, number)})
