"""The document's rendered PDF.

Docs: docs/documents.md#the-rendered-pdf and docs/seals.md#verifying-a-stored-document.

* ``GET /api/v1/documents/{id}/pdf/`` — the PDF to read or print: the latest sealed
  rendering when the document is sealed, else the latest rendering; as an attachment
  (nosniff), ``ETag`` = the file's SHA-256; 404 ``not_rendered`` before the first
  rendering. Same visibility as the document (404 for anyone who may not see it).

The verification of the stored sealed PDF (``GET /api/v1/documents/{id}/verify/``) is
the seals app's (api/seals/views.py ``DocumentVerifyView``).
"""

from __future__ import annotations

import logging

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.errors import ApiError
from api.common.schema import ERR_401, error_response, errors
from api.documents import selectors
from api.documents.rendering.actions import pdf_path
from api.documents.views.attachments import AnyAccept
from api.documents.views.common import path_id

logger = logging.getLogger(__name__)


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
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        rendering = selectors.current_pdf(document)
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
