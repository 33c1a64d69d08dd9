"""Posts: the lists, one post, create and edit, versions. Docs: docs/publishing.md#api."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import params
from api.common.datetimes import client_datetime
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, ERR_422, errors
from api.publishing import actions, selectors
from api.publishing.models import PostAttachment, PostState, PostVersion, ReadReceipt
from api.publishing.serializers import (
    PostDetailSerializer,
    PostPageSerializer,
    PostVersionSerializer,
    PostWriteSerializer,
    post_detail,
    post_item,
)
from api.publishing.views.common import (
    IDEMPOTENCY_HEADER,
    PAGE_PARAMETERS,
    TAGS,
    actor,
    path_id,
    validated,
)

BOXES = ["inbox", "mine", "review"]


class PublishedPagination(CursorPagination):
    ordering = "-published_at"


class WorkbenchPagination(CursorPagination):
    ordering = "-id"


def detail_response(user, post) -> dict:
    receipt = ReadReceipt.objects.filter(post=post, user=user).only("read_at").first()
    files = list(PostAttachment.objects.filter(post=post, deleted_at__isnull=True))
    return post_detail(
        post,
        read_at=receipt.read_at if receipt else None,
        attachments=files,
        can_manage=post.author_id == user.pk or selectors.is_publisher(user, post.author_unit),
    )


class PostListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="posts_list",
        summary="Posts: published ones for me, my own, or those waiting for my review",
        description=(
            "`box=inbox` (default): published posts whose audience includes the caller, "
            "newest first (`must_read=true` only must-reads, `unread=true` only unread "
            "must-reads); `box=mine`: the caller's posts in every state; `box=review`: "
            "posts waiting for review (待审核) in units the caller publishes for."
        ),
        parameters=[
            OpenApiParameter("box", str, enum=BOXES, default="inbox"),
            OpenApiParameter("channel", int),
            OpenApiParameter("must_read", bool),
            OpenApiParameter("unread", bool),
            *PAGE_PARAMETERS,
        ],
        responses={200: PostPageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        box = params.choice_param(request, "box", BOXES) or "inbox"
        channel_id = params.int_param(request, "channel")
        paginator: CursorPagination
        if box == "inbox":
            if params.bool_param(request, "unread"):
                queryset = selectors.unread_must_reads(user).order_by("-published_at")
            else:
                queryset = selectors.published_for(user).select_related(*selectors.LIST_RELATED)
            if params.bool_param(request, "must_read"):
                queryset = queryset.filter(must_read=True)
            paginator = PublishedPagination()
        else:
            if box == "mine":
                queryset = selectors.workbench(user).filter(author=user)
            else:
                queryset = selectors.workbench(user).filter(
                    state=PostState.PENDING, author_unit_id__in=selectors.published_units(user)
                )
            paginator = WorkbenchPagination()
        if channel_id is not None:
            queryset = queryset.filter(channel_id=channel_id)
        page = list(paginator.paginate_queryset(queryset, request, view=self) or [])
        read = selectors.read_post_ids(user, [p.pk for p in page])
        return paginator.get_paginated_response([post_item(p, read) for p in page])

    @extend_schema(
        tags=TAGS,
        operation_id="posts_create",
        summary="Draft a post (草稿) in a channel, for the caller's unit",
        description=(
            "`channel` and `title` required; `body` is a list of paragraphs `{level, "
            "text}` as in documents; `audience` defaults to the author unit and its "
            "subtree. 403 when the channel is another unit's or read-only."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=PostWriteSerializer,
        responses={201: PostDetailSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = actor(request)
        data = validated(PostWriteSerializer, request)
        channel_id = data.pop("channel", None)
        if channel_id is None:
            raise ApiError(
                "validation_error", fields={"channel": [t("请选择栏目。", "Choose a channel.")]}
            )
        post = actions.create_post(channel_id, user, data)
        post = selectors.post_or_404(user, post.pk)
        return Response(detail_response(user, post), status=status.HTTP_201_CREATED)


class PostDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="posts_detail",
        summary="One post (404 outside its audience)",
        responses={200: PostDetailSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        post = selectors.post_or_404(user, path_id(pk))
        return Response(detail_response(user, post))

    @extend_schema(
        tags=TAGS,
        operation_id="posts_update",
        summary="Edit a post; after publishing the previous text is kept as a version",
        description="The author edits a draft or returned post; the unit's publisher any "
        "post but a withdrawn one (and alone may pin). `channel` cannot change.",
        parameters=[IDEMPOTENCY_HEADER],
        request=PostWriteSerializer,
        responses={200: PostDetailSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        user = actor(request)
        data = validated(PostWriteSerializer, request)
        if "channel" in data:
            raise ApiError(
                "validation_error",
                fields={"channel": [t("栏目不能修改。", "The channel cannot change.")]},
            )
        post = actions.update_post(path_id(pk), user, data)
        post = selectors.post_or_404(user, post.pk)
        return Response(detail_response(user, post))


class PostVersionsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="posts_versions",
        summary="Earlier versions of a post (author side only)",
        parameters=PAGE_PARAMETERS,
        responses={200: PostVersionSerializer(many=True), **errors(ERR_403, ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        post = selectors.post_or_404(user, path_id(pk))
        if post.author_id != user.pk and not selectors.is_publisher(user, post.author_unit):
            raise ApiError("not_found", status_code=404)
        paginator = VersionPagination()
        page = paginator.paginate_queryset(
            PostVersion.objects.filter(post=post), request, view=self
        )
        return paginator.get_paginated_response(
            [
                {
                    "version": v.version,
                    "edited_at": client_datetime(v.edited_at),
                    "edited_by": v.edited_by_id,
                    "snapshot": v.snapshot,
                }
                for v in page or []
            ]
        )


class VersionPagination(CursorPagination):
    ordering = "-version"
