"""The document's rendered PDF and the verification of its seal.

Docs: docs/documents.md#the-rendered-pdf and docs/seals.md#verifying-a-stored-document.

* ``GET /api/v1/documents/{id}/pdf/`` — the PDF to read or print: the latest sealed
  rendering when the document is sealed, else the latest rendering; as an attachment
  (nosniff), ``ETag`` = the file's SHA-256; 404 ``not_rendered`` before the first
  rendering. Same visibility as the document (404 for anyone who may not see it).
* ``GET /api/v1/documents/{id}/verify/`` — ``verify_pdf`` on the stored sealed PDF;
  404 ``not_sealed`` when the document has no sealed rendering.
"""

from __future__ import annotations

import logging

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.errors import ApiError, NotFound
from api.common.schema import ERR_401, error_response, errors
from api.documents import selectors
from api.documents.models import Document, RenderedPdf
from api.documents.rendering.actions import pdf_path
from api.documents.views.attachments import AnyAccept
from api.documents.views.common import actor, path_id
from api.seals.verification import verify_pdf
from api.seals.views import SealUnitRefSerializer

logger = logging.getLogger(__name__)


def current_pdf(document: Document) -> RenderedPdf | None:
    """The latest sealed rendering, else the latest rendering (None before the first)."""
    renderings = list(RenderedPdf.objects.filter(document=document).order_by("-version"))
    sealed = next((r for r in renderings if r.meta.get("sealed")), None)
    return sealed or (renderings[0] if renderings else None)


def sealed_pdf(document: Document) -> RenderedPdf | None:
    for rendering in RenderedPdf.objects.filter(document=document).order_by("-version"):
        if rendering.meta.get("sealed"):
            return rendering
    return None


class DocumentPdfView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=["documents"],
        summary="Download the rendered PDF (the sealed one once sealed)",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Content-Disposition: attachment, nosniff; ETag = SHA-256",
            ),
            **errors(
                ERR_401,
                {404: error_response("not_found / not_rendered (no rendering yet)")},
            ),
        },
    )
    def get(self, request: Request, document_id: int) -> FileResponse:
        document = selectors.document_or_404(actor(request), path_id(document_id))
        rendering = current_pdf(document)
        if rendering is None:
            raise ApiError("not_rendered", status_code=404)
        etag = f'"{rendering.sha256}"'
        try:
            handle = pdf_path(rendering).open("rb")
        except FileNotFoundError:
            logger.error("rendering %s: file %s is missing", rendering.pk, rendering.path)
            raise ApiError("not_rendered", status_code=404) from None
        name = f"document-{document.pk}-v{rendering.version}.pdf"
        response = FileResponse(
            handle, as_attachment=True, filename=name, content_type="application/pdf"
        )
        response["Content-Length"] = str(rendering.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-cache"
        response["ETag"] = etag
        return response


class StoredVerificationSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    signed_by_unit = SealUnitRefSerializer(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    certificate_trusted = serializers.BooleanField()
    revoked_at_signing_time = serializers.BooleanField()
    covers_whole_file = serializers.BooleanField()
    rendering_version = serializers.IntegerField()
    sha256 = serializers.CharField()


class DocumentVerifyView(APIView):
    @extend_schema(
        tags=["documents"],
        summary="Verify the seal of the stored sealed PDF",
        responses={
            200: StoredVerificationSerializer,
            **errors(
                ERR_401,
                {404: error_response("not_found / not_sealed (the document is not sealed)")},
            ),
        },
    )
    def get(self, request: Request, document_id: int) -> Response:
        document = selectors.document_or_404(actor(request), path_id(document_id))
        rendering = sealed_pdf(document)
        if rendering is None:
            raise ApiError("not_sealed", status_code=404)
        try:
            data = pdf_path(rendering).read_bytes()
        except FileNotFoundError:
            logger.error("sealed rendering %s: file %s is missing", rendering.pk, rendering.path)
            raise NotFound() from None
        report = verify_pdf(data)
        keys = (
            "intact",
            "signed_by_unit",
            "signed_at",
            "certificate_trusted",
            "revoked_at_signing_time",
            "covers_whole_file",
        )
        body = {key: report[key] for key in keys}
        body.update(rendering_version=rendering.version, sha256=rendering.sha256)
        return Response(StoredVerificationSerializer(body).data)
