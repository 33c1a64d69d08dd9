"""The supervision API (督办) under /api/v1/supervision/items/.

Docs: docs/supervision.md#api. Thin views: every change is a function of
api/supervision/actions.py; who may see what is api/supervision/selectors.py. An item
the caller may not see is a 404 (recorded); a supervisor's reads are recorded too
(``supervision.viewed``), because supervisors' queries are themselves audited.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.audit.recorder import record
from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_403, ERR_404, error_response, errors
from api.common.serializers import validated_body
from api.supervision import actions, selectors
from api.supervision.models import ItemState, Light, ProgressReport, SupervisedItem
from api.supervision.serializers import (
    CloseInSerializer,
    EmptySerializer,
    ItemCreateSerializer,
    ItemFilterSerializer,
    MilestoneInSerializer,
    ProgressInSerializer,
    SupervisedItemSerializer,
    SupervisionMilestoneSerializer,
    SupervisionProgressSerializer,
    SupervisionUrgeSerializer,
    UrgeInSerializer,
)

TAGS = ["supervision"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response (docs/api.md#idempotency).",
)
ERR_CLOSED = {409: error_response("supervision_closed — the item is closed")}


def _context() -> dict[str, Any]:
    return {"now": timezone.now()}


def _record_read(user: User, what: str, **detail: Any) -> None:
    if selectors.is_supervisor(user):
        record("supervision.viewed", actor=user, detail={"what": what, **detail})


def _item_response(item_id: int, user: User, status: int = 200) -> Response:
    item = selectors.with_related(SupervisedItem.objects.filter(pk=item_id)).get()
    return Response(SupervisedItemSerializer(item, context=_context()).data, status=status)


class ItemListView(generics.GenericAPIView):
    serializer_class = SupervisedItemSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="supervision_items_list",
        summary="Supervised items I may see, newest first",
        description="Supervisors: items of the units in their scope; others: their own "
        "unit's items. Filters: `light` (open items only), `state`, `unit` (owner unit id).",
        parameters=[
            OpenApiParameter("light", str, enum=Light.values),
            OpenApiParameter("state", str, enum=ItemState.values),
            OpenApiParameter("unit", int, description="Owner unit id."),
        ],
        responses={200: SupervisedItemSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = ItemFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        items = selectors.visible_items(user)
        if "light" in query:
            items = items.filter(state=ItemState.OPEN, light=query["light"])
        if "state" in query:
            items = items.filter(state=query["state"])
        if "unit" in query:
            items = items.filter(owner_unit_id=query["unit"])
        _record_read(user, "items", **{k: str(v) for k, v in query.items()})
        page = self.paginate_queryset(selectors.with_related(items))
        data = SupervisedItemSerializer(page, many=True, context=_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAGS,
        operation_id="supervision_items_create",
        summary="Open a supervised item (supervisors)",
        parameters=[IDEMPOTENCY_HEADER],
        request=ItemCreateSerializer,
        responses={201: SupervisedItemSerializer, **errors(ERR_400, ERR_403)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(ItemCreateSerializer, request)
        item = actions.create_item(
            current_user(request),
            title=data["title"],
            source=data["source"],
            owner_unit_id=data["owner_unit_id"],
            deadline=data["deadline"],
            document_id=data.get("document_id"),
            instruction=data.get("instruction", ""),
            milestones=[dict(m) for m in data.get("milestones", [])],
        )
        return _item_response(item.pk, current_user(request), status=201)


class ItemDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="supervision_items_retrieve",
        summary="One supervised item with its milestones",
        responses={200: SupervisedItemSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        item = selectors.item_or_404(user, pk, "supervision.view")
        _record_read(user, "item", item_id=item.pk)
        return Response(SupervisedItemSerializer(item, context=_context()).data)


class MilestonesView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="supervision_milestones_list",
        summary="An item's milestones, by due time",
        responses={200: SupervisionMilestoneSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        item = selectors.item_or_404(user, pk, "supervision.view")
        _record_read(user, "milestones", item_id=item.pk)
        return Response(
            SupervisionMilestoneSerializer(
                item.milestones.all(), many=True, context=_context()
            ).data
        )

    @extend_schema(
        tags=TAGS,
        operation_id="supervision_milestones_create",
        summary="Add a milestone (the item's supervisors)",
        parameters=[IDEMPOTENCY_HEADER],
        request=MilestoneInSerializer,
        responses={
            201: SupervisionMilestoneSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_CLOSED),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(MilestoneInSerializer, request)
        milestone = actions.add_milestone(
            pk, current_user(request), title=data["title"], due=data["due"]
        )
        return Response(
            SupervisionMilestoneSerializer(milestone, context=_context()).data, status=201
        )


class MilestoneDoneView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="supervision_milestones_done",
        summary="Mark a milestone done (the owner unit's leaders and clerks)",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptySerializer,
        responses={
            200: SupervisionMilestoneSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_CLOSED),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int, milestone_id: int) -> Response:
        validated_body(EmptySerializer, request)
        milestone = actions.complete_milestone(pk, milestone_id, current_user(request))
        return Response(SupervisionMilestoneSerializer(milestone, context=_context()).data)


class ProgressView(generics.GenericAPIView):
    serializer_class = SupervisionProgressSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="supervision_progress_list",
        summary="An item's progress reports, newest first",
        responses={200: SupervisionProgressSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        item = selectors.item_or_404(user, pk, "supervision.view")
        _record_read(user, "progress", item_id=item.pk)
        reports = ProgressReport.objects.filter(item=item).select_related("by")
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(SupervisionProgressSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="supervision_progress_create",
        summary="Report progress (the owner unit's leaders and clerks)",
        parameters=[IDEMPOTENCY_HEADER],
        request=ProgressInSerializer,
        responses={
            201: SupervisionProgressSerializer,
            **errors(ERR_400, ERR_403, ERR_404, ERR_CLOSED),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(ProgressInSerializer, request)
        report = actions.report_progress(
            pk, current_user(request), text=data["text"], percent=data["percent"]
        )
        return Response(SupervisionProgressSerializer(report).data, status=201)


class UrgeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="supervision_items_urge",
        summary="Urge (催办): notify the owner unit's leaders and clerks (supervisors)",
        description=(
            "Within the cap per urged person and item shared with task urges "
            "(GOVDESK_URGE_CAP_PER_WINDOW per GOVDESK_URGE_CAP_WINDOW_MINUTES, whoever "
            "urges): a person over the cap is left out of `recipients`; only the first "
            "urge of a window may reach a person by SMS. When every recipient is over the "
            "cap: 429 `urge_capped` with `retry_after` (audited)."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=UrgeInSerializer,
        responses={
            201: SupervisionUrgeSerializer,
            **errors(
                ERR_400,
                ERR_403,
                ERR_404,
                ERR_CLOSED,
                {429: error_response("urge_capped — see retry_after")},
            ),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(UrgeInSerializer, request)
        entry = actions.urge(pk, current_user(request), message=data.get("message", ""))
        return Response(SupervisionUrgeSerializer(entry).data, status=201)


class CloseView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="supervision_items_close",
        summary="Close the item with its result (supervisors)",
        parameters=[IDEMPOTENCY_HEADER],
        request=CloseInSerializer,
        responses={200: SupervisedItemSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_CLOSED)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(CloseInSerializer, request)
        item = actions.close_item(pk, current_user(request), result=data["result"])
        return _item_response(item.pk, current_user(request))
