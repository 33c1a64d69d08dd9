"""The emergency API: the duty roster (值班表) and the handling records of emergency
events. Docs: docs/integrations.md#emergency. Thin views: changes are in
api/integrations/emergency/actions.py, who sees what in selectors.py. The command
system's webhook itself is the connector layer's (POST /api/v1/integrations/emergency/events/).
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.common.auth import current_user
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.schema import (
    ERR_400,
    ERR_403,
    ERR_404,
    IDEMPOTENCY_HEADER,
    error_response,
    errors,
)
from api.common.serializers import validated_body
from api.integrations.emergency import actions, selectors
from api.integrations.emergency.models import DutyAssignment, EventUpdate, HandlingRecipient
from api.integrations.emergency.serializers import (
    DutyFilterSerializer,
    DutyInSerializer,
    DutySerializer,
    HandlingDetailSerializer,
    HandlingSerializer,
)

TAGS = ["integrations"]
ERR_DUTY = {409: error_response("duty_exists — the officer is already on that shift")}


class DutyPagination(CursorPagination):
    ordering = ("day", "id")  # type: ignore[assignment]  # DRF takes a tuple too


class DutyListView(generics.GenericAPIView):
    serializer_class = DutySerializer
    pagination_class = DutyPagination

    @extend_schema(
        tags=TAGS,
        operation_id="integrations_emergency_duty_list",
        summary="The duty roster (值班表) I may see, by day",
        description="The rosters of my own unit and of the units I administer. Filters: "
        "`unit`, `from`/`to` (days, inclusive).",
        parameters=[
            OpenApiParameter("unit", int, description="Unit id."),
            OpenApiParameter("from", OpenApiTypes.DATE, description="On or after this day."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="On or before this day."),
        ],
        responses={200: DutySerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = DutyFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        duties = selectors.visible_duty(user)
        if "unit" in query:
            duties = duties.filter(unit_id=query["unit"])
        if "from" in query:
            duties = duties.filter(day__gte=query["from"])
        if "to" in query:
            duties = duties.filter(day__lte=query["to"])
        page = self.paginate_queryset(duties.select_related("unit", "officer"))
        return self.get_paginated_response(DutySerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="integrations_emergency_duty_create",
        summary="Put an officer on a shift (the unit's admins)",
        description="The officer must be an active member of the unit (or a unit under "
        "it). Day shift 08:00–18:00, night shift 18:00–08:00 the next morning "
        "(Asia/Shanghai).",
        parameters=[IDEMPOTENCY_HEADER],
        request=DutyInSerializer,
        responses={201: DutySerializer, **errors(ERR_400, ERR_403, ERR_DUTY)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(DutyInSerializer, request)
        duty = actions.add_duty(
            current_user(request),
            unit_id=data["unit_id"],
            day=data["day"],
            shift=data["shift"],
            officer_id=data["officer_id"],
        )
        found = DutyAssignment.objects.select_related("unit", "officer").get(pk=duty.pk)
        return Response(DutySerializer(found).data, status=201)


class DutyDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="integrations_emergency_duty_destroy",
        summary="Take an officer off a shift (the unit's admins)",
        responses={204: None, **errors(ERR_403, ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actions.remove_duty(current_user(request), pk)
        return Response(status=204)


class HandlingListView(generics.GenericAPIView):
    serializer_class = HandlingSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="integrations_emergency_handling_list",
        summary="Handling records of emergency events (应急事件处置) I may see, newest first",
        description="The events sent to me, and for the duty office's admins and leaders "
        "and supervisors over it, all of its events.",
        responses={200: HandlingSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        records = selectors.with_related(selectors.visible_records(user))
        page = self.paginate_queryset(records)
        return self.get_paginated_response(HandlingSerializer(page, many=True).data)


def _detail(user: User, pk: int) -> dict[str, Any]:
    found = selectors.record_or_404(user, pk, "emergency.view")
    data = HandlingSerializer(found).data
    people = (
        HandlingRecipient.objects.filter(record=found).select_related("user").order_by("user_id")
    )
    data["recipients"] = [{"id": r.user.pk, "display_name": r.user.display_name} for r in people]
    updates = EventUpdate.objects.filter(record=found).order_by("sequence")
    data["updates"] = [
        {
            "sequence": u.sequence,
            "level": u.level,
            "place": u.place,
            "summary": u.summary,
            "sent_at": u.sent_at,
            "received_at": u.received_at,
        }
        for u in updates
    ]
    return dict(data)


class HandlingDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="integrations_emergency_handling_retrieve",
        summary="One handling record with the command system's updates in sequence order",
        responses={200: HandlingDetailSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(current_user(request), pk))


class AcknowledgeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="integrations_emergency_handling_acknowledge",
        summary="Acknowledge (签收) an emergency event (the people it was sent to)",
        description="Once: a repeat answers the record unchanged. The duty office's admins "
        "may acknowledge too; others who may see it (leaders, supervisors): 403.",
        parameters=[IDEMPOTENCY_HEADER],
        request=None,
        responses={200: HandlingDetailSerializer, **errors(ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        if request.data not in (None, {}, b"", ""):
            raise ApiError(
                "unknown_field",
                fields={"body": [t("此操作不接受请求体。", "No body is accepted.")]},
            )
        actions.acknowledge(pk, user)
        return Response(_detail(user, pk))
