"""Documents: create, list, read, edit, history, void a number.
Docs: docs/documents.md#endpoints.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import bool_param, choice_param, str_param
from api.documents import actions, selectors
from api.documents.models import Direction, DocumentStatus
from api.documents.serializers import (
    DocumentCreateSerializer,
    DocumentListItemSerializer,
    DocumentPatchSerializer,
    DocumentSerializer,
    VersionSerializer,
    VoidNumberSerializer,
)
from api.documents.views.common import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_409,
    ERR_422,
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    errors,
    etag_for,
    if_match_tags,
    path_id,
)

CREATE_EXAMPLE = OpenApiExample(
    "A draft notice",
    request_only=True,
    value={
        "direction": "outgoing",
        "title": "关于做好2026年春节期间值班工作的通知",
        "doc_type": "notice",
        "urgency": "urgent",
        "main_recipients": "各区人民政府，市政府各部门",
        "cc": "市委办公室",
        "header_text": "新城市人民政府办公室文件",
        "body": [
            {"level": 0, "text": "为确保春节期间各项工作有序开展，现就值班工作通知如下："},
            {"level": 1, "text": "一、加强组织领导"},
            {"level": 0, "text": "各单位主要负责同志要亲自部署。"},
        ],
    },
)
PATCH_EXAMPLE = OpenApiExample(
    "Change the title and urgency",
    request_only=True,
    value={
        "title": "关于做好春节期间值班工作的补充通知",
        "urgency": "very_urgent",
        "expected_version": 3,
    },
)


def detail_response(request: Request, document, status_code: int = 200) -> Response:
    data = DocumentSerializer(document, context={"request": request}).data
    response = Response(data, status=status_code)
    response["ETag"] = etag_for(document, current_user(request))
    return response


class DocumentListView(generics.GenericAPIView):
    serializer_class = DocumentListItemSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        queryset = selectors.visible_documents(current_user(self.request))
        wanted = choice_param(self.request, "status", list(DocumentStatus.values))
        if wanted:
            queryset = queryset.filter(status=wanted)
        direction = choice_param(self.request, "direction", list(Direction.values))
        if direction:
            queryset = queryset.filter(direction=direction)
        q = str_param(self.request, "q")
        if q:
            queryset = queryset.filter(title__icontains=q)
        if bool_param(self.request, "mine"):
            # 我的发文: what I drafted, to follow it through the flow.
            queryset = queryset.filter(drafter=current_user(self.request))
        return queryset

    @extend_schema(
        tags=["documents"],
        summary="Documents visible to me, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=list(DocumentStatus.values)),
            OpenApiParameter("direction", str, enum=list(Direction.values)),
            OpenApiParameter("q", str, description="part of the title"),
            OpenApiParameter("mine", bool, description="only documents I drafted (我的发文)"),
        ],
        responses={200: DocumentListItemSerializer(many=True), **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        tags=["documents"],
        summary="Draft a document (拟稿)",
        parameters=[IDEMPOTENCY_HEADER],
        request=DocumentCreateSerializer,
        responses={201: DocumentSerializer, **errors(ERR_400, ERR_422)},
        examples=[CREATE_EXAMPLE],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = DocumentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = actions.create_draft(current_user(request), **serializer.validated_data)
        response = detail_response(request, document, status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/documents/{document.pk}/"
        return response


class DocumentDetailView(generics.GenericAPIView):
    serializer_class = DocumentSerializer

    @extend_schema(
        tags=["documents"],
        summary="A document with its attachments and version (ETag)",
        responses={200: DocumentSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, document_id: int) -> Response:
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        return detail_response(request, document)

    @extend_schema(
        tags=["documents"],
        summary="Edit a draft or returned document (new version)",
        parameters=[IF_MATCH_HEADER],
        request=DocumentPatchSerializer,
        responses={200: DocumentSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409, ERR_422)},
        examples=[PATCH_EXAMPLE],
    )
    def patch(self, request: Request, document_id: int) -> Response:
        user = current_user(request)
        document = selectors.document_or_404(user, path_id(document_id))
        serializer = DocumentPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        expected = changes.pop("expected_version", None)
        tags = if_match_tags(request)
        if tags is not None and "*" not in tags:
            current = document.version
            # A tag that is not the current one can only be stale: force the conflict.
            matched = etag_for(document, user) in tags
            if expected is None or expected == current:
                expected = current if matched else -1
        document = actions.update_document(document.pk, user, changes, expected)
        return detail_response(request, document)


class DocumentVersionsView(generics.GenericAPIView):
    serializer_class = VersionSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=["documents"],
        summary="Version history: who changed which fields when, newest first",
        responses={200: VersionSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request, document_id: int) -> Response:
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        page = self.paginate_queryset(selectors.versions(document))
        return self.get_paginated_response(VersionSerializer(page, many=True).data)


class VoidNumberView(generics.GenericAPIView):
    serializer_class = VoidNumberSerializer

    @extend_schema(
        tags=["documents"],
        summary="Void the document number (作废; recorded, never reused)",
        parameters=[IDEMPOTENCY_HEADER],
        request=VoidNumberSerializer,
        responses={200: DocumentSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
        examples=[
            OpenApiExample("Void", request_only=True, value={"reason": "文号印错，重新编号"})
        ],
    )
    @idempotent
    def post(self, request: Request, document_id: int) -> Response:
        document = selectors.document_or_404(current_user(request), path_id(document_id))
        serializer = VoidNumberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = actions.void_number(
            document.pk, current_user(request), serializer.validated_data["reason"]
        )
        return detail_response(request, document)
