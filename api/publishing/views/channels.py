"""Channels (栏目) and a channel's news list. Docs: docs/publishing.md#api."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import params
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, errors
from api.publishing import actions, selectors
from api.publishing.serializers import (
    ChannelCreateSerializer,
    ChannelNewsSerializer,
    ChannelPageSerializer,
    ChannelSerializer,
    channel_item,
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

MAX_PINNED = 5


class ChannelPagination(CursorPagination):
    ordering = "id"


class ChannelNewsPagination(CursorPagination):
    ordering = "-published_at"


class ChannelListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="channels_list",
        summary="Channels: city-wide ones and every unit's",
        description="`scope=city` only city-wide, `scope=mine` city-wide and the caller's "
        "unit's, `unit=<id>` one unit's.",
        parameters=[
            OpenApiParameter("scope", str, enum=["all", "city", "mine"], default="all"),
            OpenApiParameter("unit", int),
            *PAGE_PARAMETERS,
        ],
        responses={200: ChannelPageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        queryset = selectors.channels_visible()
        scope = params.choice_param(request, "scope", ["all", "city", "mine"]) or "all"
        if scope == "city":
            queryset = queryset.filter(unit__isnull=True)
        elif scope == "mine":
            unit = selectors.author_unit_of(user)
            queryset = queryset.filter(unit__isnull=True) | queryset.filter(unit=unit)
        unit_id = params.int_param(request, "unit")
        if unit_id is not None:
            queryset = queryset.filter(unit_id=unit_id)
        paginator = ChannelPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([channel_item(c) for c in page or []])

    @extend_schema(
        tags=TAGS,
        operation_id="channels_create",
        summary="Create a channel (unit admin: their unit's; city IT admin: city-wide)",
        parameters=[IDEMPOTENCY_HEADER],
        request=ChannelCreateSerializer,
        responses={201: ChannelSerializer, **errors(ERR_400, ERR_403, ERR_409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(ChannelCreateSerializer, request)
        channel = actions.create_channel(
            actor(request),
            name=data["name"],
            code=data["code"],
            unit_id=data.get("unit_id"),
            description=data.get("description", ""),
        )
        return Response(channel_item(channel), status=status.HTTP_201_CREATED)


class ChannelPostsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="channels_posts",
        summary="A channel's news list: published posts the caller may see",
        description="`pinned` (first page only, at most 5) then `results`, newest first. "
        "Posts past their end date are left out unless `include_ended=true` (they stay "
        "searchable). `read` says whether the caller has read each one.",
        parameters=[OpenApiParameter("include_ended", bool, default=False), *PAGE_PARAMETERS],
        responses={200: ChannelNewsSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        channel = selectors.channel_or_404(user, path_id(pk))
        include_ended = bool(params.bool_param(request, "include_ended"))
        queryset = (
            selectors.published_for(user, include_ended=include_ended)
            .filter(channel=channel)
            .select_related(*selectors.LIST_RELATED)
        )
        pinned: list = []
        if not request.query_params.get("cursor"):
            pinned = list(
                queryset.filter(pinned=True).order_by("-published_at", "-id")[:MAX_PINNED]
            )
        paginator = ChannelNewsPagination()
        page = list(
            paginator.paginate_queryset(queryset.filter(pinned=False), request, view=self) or []
        )
        read = selectors.read_post_ids(user, [p.pk for p in [*pinned, *page]])
        response = paginator.get_paginated_response([post_item(p, read) for p in page])
        response.data["pinned"] = [post_item(p, read) for p in pinned]
        return response
