"""Handwritten instructions (批示): add (PNG or strokes), list, image, instruction sheet.
Docs: docs/instructions.md#endpoints.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.parsers import SafeJSONParser
from api.common.schema import error_response
from api.common.serializers import StrictSerializer
from api.documents import instructions as ink
from api.documents import selectors
from api.documents.instruction_sheet import build_instruction_sheet
from api.documents.models import HandwrittenInstruction
from api.documents.serializers import UserRefSerializer
from api.documents.views.attachments import AnyAccept
from api.documents.views.common import (
    ERR_400,
    ERR_404,
    IDEMPOTENCY_HEADER,
    errors,
    path_id,
)

logger = logging.getLogger(__name__)

ERR_413 = {413: error_response("payload_too_large / instruction_image_too_large")}
ERR_415 = {415: error_response("instruction_image_type / unsupported_media_type")}
ERR_422 = {422: error_response("instruction_image_too_large / instruction_strokes_invalid")}


class AuthorSerializer(UserRefSerializer):
    title = serializers.CharField(help_text="职务")


class InstructionSerializer(serializers.ModelSerializer):
    author = AuthorSerializer()
    task_id = serializers.IntegerField(allow_null=True)
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = HandwrittenInstruction
        fields = [
            "id",
            "document",
            "task_id",
            "author",
            "opinion",
            "width",
            "height",
            "sha256",
            "created_at",
            "image_url",
        ]

    def get_image_url(self, obj: HandwrittenInstruction) -> str:
        return f"/api/v1/documents/{obj.document_id}/instructions/{obj.pk}/image/"


class StrokesSerializer(StrictSerializer):
    strokes = serializers.ListField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.FloatField())),
        help_text="≤ 500 strokes, ≤ 20,000 points in all; a point is [x, y] or [x, y, t]",
    )
    width = serializers.IntegerField(min_value=1, max_value=ink.MAX_CANVAS)
    height = serializers.IntegerField(min_value=1, max_value=ink.MAX_CANVAS)
    opinion = serializers.CharField(required=False, allow_blank=True, max_length=ink.MAX_OPINION)
    task_id = serializers.IntegerField(required=False, allow_null=True)


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="a PNG (≤ GOVDESK_INSTRUCTION_MAX_BYTES)")
    opinion = serializers.CharField(required=False, allow_blank=True)
    task_id = serializers.IntegerField(required=False)


def _task_id(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or not 0 < number <= selectors.MAX_ID:
        raise ApiError("validation_error", fields={"task_id": [t("取值无效。", "Invalid value.")]})
    return number


class InstructionListView(generics.GenericAPIView):
    parser_classes = [SafeJSONParser, MultiPartParser]
    serializer_class = InstructionSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=["documents"],
        summary="List a document's handwritten instructions (批示)",
        responses={200: InstructionSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request: Request, document_id: int) -> Response:
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        queryset = HandwrittenInstruction.objects.filter(document=document).select_related("author")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(InstructionSerializer(page, many=True).data)

    @extend_schema(
        tags=["documents"],
        summary="Add a handwritten instruction (批示): a PNG or strokes",
        parameters=[IDEMPOTENCY_HEADER],
        request={
            "application/json": StrokesSerializer,
            "multipart/form-data": ImageUploadSerializer,
        },
        responses={
            201: InstructionSerializer,
            **errors(ERR_400, ERR_404, ERR_413, ERR_415, ERR_422),
        },
    )
    @idempotent
    def post(self, request: Request, document_id: int) -> Response:
        user = current_user(request)
        document = selectors.document_or_404(user, path_id(document_id))
        if (request.content_type or "").startswith("multipart/"):
            unknown = sorted(set(request.data) - {"image", "opinion", "task_id"})
            if unknown:
                raise ApiError(
                    "unknown_field",
                    fields={name: [t("不允许的字段。", "Unknown field.")] for name in unknown},
                )
            upload = request.FILES.get("image")
            if upload is None:
                raise ApiError(
                    "validation_error",
                    fields={"image": [t("请选择 PNG 图片。", "A PNG image is required.")]},
                )
            if upload.size is not None and upload.size > settings.GOVDESK_INSTRUCTION_MAX_BYTES:
                raise ApiError("instruction_image_too_large", status_code=413)
            png, width, height = ink.clean_png(upload.read())
            opinion = ink.clean_opinion(request.data.get("opinion"))
            task_id = _task_id(request.data.get("task_id"))
        else:
            data = request.data
            if not isinstance(data, dict):
                raise ApiError(
                    "validation_error",
                    t("请求体须为 JSON 对象。", "The body must be a JSON object."),
                )
            unknown = sorted(set(data) - set(StrokesSerializer().fields))
            if unknown:
                raise ApiError(
                    "unknown_field",
                    fields={name: [t("不允许的字段。", "Unknown field.")] for name in unknown},
                )
            strokes = ink.validate_strokes(
                data.get("strokes"), data.get("width"), data.get("height")
            )
            width, height = int(data["width"]), int(data["height"])
            png = ink.rasterise(strokes, width, height)
            opinion = ink.clean_opinion(data.get("opinion"))
            task_id = _task_id(data.get("task_id"))
        stored = ink.store(png, width, height)
        instruction = ink.add_instruction(document.pk, user, stored, opinion, task_id)
        instruction = HandwrittenInstruction.objects.select_related("author").get(pk=instruction.pk)
        return Response(InstructionSerializer(instruction).data, status=status.HTTP_201_CREATED)


class InstructionImageView(generics.GenericAPIView):
    content_negotiation_class = AnyAccept
    serializer_class = InstructionSerializer

    @extend_schema(
        tags=["documents"],
        summary="The handwriting of an instruction (PNG, transparent background)",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG, nosniff"),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, document_id: int, instruction_id: int):
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        item = HandwrittenInstruction.objects.filter(
            document=document, pk=path_id(instruction_id)
        ).first()
        if item is None:
            raise NotFound()
        try:
            data = ink.path_for(item.path).read_bytes()
        except FileNotFoundError:
            logger.error("instruction %s: file %s is missing", item.pk, item.path)
            raise NotFound() from None
        response = HttpResponse(data, content_type="image/png")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, max-age=3600"
        response["ETag"] = f'"{item.sha256[:32]}"'
        return response


class InstructionSheetView(generics.GenericAPIView):
    content_negotiation_class = AnyAccept
    serializer_class = InstructionSerializer

    @extend_schema(
        tags=["documents"],
        summary="The instruction sheet (批示单) as a separate PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="A4 PDF; the signed body is never altered"
            ),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, document_id: int):
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        pdf = build_instruction_sheet(document)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="instruction-sheet-{document.pk}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
