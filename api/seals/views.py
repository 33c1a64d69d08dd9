"""Seal endpoints: verification (docs/seals.md#verification) and the seal step
POST /api/v1/tasks/{id}/seal/ (docs/seals.md#the-seal-step).

POST /api/v1/seals/verify/ takes a PDF as the raw body (``Content-Type:
application/pdf``) or as the ``file`` part of a multipart form; the path's body limit
is GOVDESK_SEAL_VERIFY_MAX_BYTES plus the multipart envelope (GOVDESK_BODY_LIMITS).
"""

from __future__ import annotations

import hashlib
import logging
from typing import IO, Any, cast

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.models import AuditResult
from api.audit.recorder import record
from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.schema import ERR_400, ERR_401, ERR_404, IDEMPOTENCY_HEADER, error_response, errors
from api.common.serializers import StrictSerializer
from api.documents.rendering.actions import pdf_path
from api.documents.selectors import document_or_404, sealed_pdf
from api.seals.actions import seal_task
from api.seals.verification import verify_pdf
from api.workflow.task_results import TaskResultSerializer, same_or_reload, task_result

logger = logging.getLogger(__name__)


class PdfParser(BaseParser):
    """``application/pdf``: the raw body, read up to the limit (one byte more is 413)."""

    media_type = "application/pdf"

    def parse(
        self, stream: IO[bytes] | None, media_type: Any = None, parser_context: Any = None
    ) -> Any:
        limit = settings.GOVDESK_SEAL_VERIFY_MAX_BYTES
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise ApiError("payload_too_large", status_code=413)
        return {"pdf": data}


class SealUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    short_name = serializers.CharField(help_text="简称, e.g. 市政府办公室; may be empty")


class SignatureReportSerializer(serializers.Serializer):
    field = serializers.CharField()
    intact = serializers.BooleanField()
    signed_by_unit = SealUnitRefSerializer(allow_null=True)
    signer_subject = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    certificate_trusted = serializers.BooleanField()
    certificate_serial = serializers.CharField()
    revoked_at_signing_time = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    covers_whole_file = serializers.BooleanField()


class VerificationSerializer(serializers.Serializer):
    signed = serializers.BooleanField()
    readable = serializers.BooleanField()
    intact = serializers.BooleanField()
    signed_by_unit = SealUnitRefSerializer(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    certificate_trusted = serializers.BooleanField()
    revoked_at_signing_time = serializers.BooleanField()
    covers_whole_file = serializers.BooleanField()
    signatures = SignatureReportSerializer(many=True)
    sha256 = serializers.CharField()


class VerifyUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def _upload_bytes(request: Request) -> bytes:
    data = request.data
    if "pdf" in data and isinstance(data["pdf"], bytes):
        return cast(bytes, data["pdf"])
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(
            "validation_error", fields={"file": [t("请选择 PDF 文件。", "A PDF file is required.")]}
        )
    if upload.size is not None and upload.size > settings.GOVDESK_SEAL_VERIFY_MAX_BYTES:
        raise ApiError("payload_too_large", status_code=413)
    return upload.read()


class VerifyPdfView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [PdfParser, MultiPartParser]

    @extend_schema(
        tags=["seals"],
        summary="Verify the seals (PAdES signatures) of an uploaded PDF",
        request={
            "application/pdf": OpenApiTypes.BINARY,
            "multipart/form-data": VerifyUploadSerializer,
        },
        responses={
            200: VerificationSerializer,
            **errors(
                ERR_400,
                ERR_401,
                {409: error_response("seal_ca_missing: the deployment has no seal CA yet")},
                {413: error_response("payload_too_large")},
                {415: error_response("not_a_pdf / unsupported_media_type")},
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = current_user(request)
        pdf = _upload_bytes(request)
        digest = hashlib.sha256(pdf).hexdigest()
        try:
            report = verify_pdf(pdf)
        except ApiError as exc:
            record(
                "seal.verified",
                actor=user,
                result=AuditResult.FAILED,
                detail={"code": exc.code, "sha256": digest, "size": len(pdf)},
            )
            raise
        record(
            "seal.verified",
            actor=user,
            detail={
                "sha256": digest,
                "size": len(pdf),
                "intact": report["intact"],
                "certificate_trusted": report["certificate_trusted"],
                "signatures": len(report["signatures"]),
            },
        )
        return Response({**report, "sha256": digest})


class SealStepSerializer(StrictSerializer):
    otp = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text="the custodian's TOTP code"
    )


class SealTaskView(APIView):
    """POST /api/v1/tasks/{id}/seal/ — the seal step (用印). Docs: docs/seals.md#the-seal-step."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tasks"],
        operation_id="tasks_seal",
        summary="Seal (用印): apply the unit's seal to the rendered PDF and finish the step",
        description=(
            "By the assignee of an open seal task who is a seal custodian (印章管理员) of "
            "the document's unit, with a fresh TOTP code. Renders the document first when "
            "it has no rendering yet. The sealed PDF, the seal use and the closed task "
            "(opinion 已用印) commit together."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=SealStepSerializer,
        responses={
            200: TaskResultSerializer,
            **errors(
                {400: error_response("validation_error / otp_required / otp_invalid")},
                ERR_401,
                {403: error_response("not_seal_custodian / mfa_setup_required")},
                ERR_404,
                {
                    409: error_response(
                        "task_not_open / not_numbered / not_rendered / seal_not_configured / "
                        "seal_certificate_revoked / seal_certificate_expired"
                    )
                },
                {422: error_response("not_seal_step")},
            ),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        serializer = SealStepSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        user = current_user(request)
        task, _ = seal_task(pk, user, serializer.validated_data.get("otp", ""))
        return Response(task_result(same_or_reload(task, pk, user), user))


# --- The stored sealed PDF of a document (GET /api/v1/documents/{id}/verify/) ------------


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
        document = document_or_404(current_user(request), document_id)
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
