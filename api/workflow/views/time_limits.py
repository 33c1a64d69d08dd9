"""A unit's own document time limits: /api/v1/units/{id}/time-limits/
(docs/workflow.md#document-time-limits).

GET: the limits a document of the unit gets (its own rows, and the every-type limits in
force: its own, a unit's above it, or the defaults) — for the unit's members and admins
(others 404, recorded). PUT sets one row (every type, or ``doc_type``), DELETE
``?doc_type=`` removes one: a unit admin of its subtree or a city IT admin (403
``permission_denied``, recorded).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts import selectors as org
from api.accounts.roles import can_manage_unit, is_member_of
from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import Msg
from api.common.idempotency import idempotent
from api.common.schema import ERR_400, ERR_403, ERR_404, errors
from api.common.serializers import StrictSerializer
from api.documents.models import DocType
from api.workflow import actions
from api.workflow.models import UnitTimeLimit
from api.workflow.time_limits import unit_limits

TAGS = ["workflow-templates"]


def _doc_types() -> list[str]:
    return ["", *DocType.values]


def _days(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.5"),
        max_value=Decimal(30),
        help_text=help_text,
    )


class TimeLimitRowSerializer(serializers.Serializer):
    doc_type = serializers.CharField(allow_blank=True, help_text="'' = every type")
    ordinary_days = serializers.FloatField()
    countersign_days = serializers.FloatField(help_text="when several leaders countersign")
    updated_at = serializers.DateTimeField()


class InForceSerializer(serializers.Serializer):
    ordinary_days = serializers.FloatField()
    countersign_days = serializers.FloatField()


class UnitTimeLimitsSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    in_force = InForceSerializer(
        help_text="every-type limits a normal-urgency document of the unit gets now"
    )
    rows = TimeLimitRowSerializer(many=True, help_text="the unit's own rows")


class TimeLimitSetSerializer(StrictSerializer):
    doc_type = serializers.ChoiceField(
        choices=_doc_types(), required=False, default="", help_text="'' = every type"
    )
    ordinary_days = _days("working days, 0.5–30")
    countersign_days = _days("working days when several leaders countersign, 0.5–30")


def _unit_or_404(request: Request, pk: int, action: str) -> Any:
    """The unit when the user is one of its members or admins; else 404 (recorded). A
    member who may not change it gets 403 from the action."""
    actor = current_user(request)
    unit = org.unit_by_id(pk)
    if unit is None or not (can_manage_unit(actor, unit) or is_member_of(actor, unit)):
        record_denied(action, actor=actor, object_type="accounts.unit", object_id=pk)
        raise NotFound()
    return unit


def _body(unit: Any) -> dict[str, Any]:
    ordinary, countersign = unit_limits(unit, "")
    rows = UnitTimeLimit.objects.filter(unit=unit).order_by("doc_type")
    return {
        "unit": unit.pk,
        "in_force": {"ordinary_days": ordinary, "countersign_days": countersign},
        "rows": [
            {
                "doc_type": row.doc_type,
                "ordinary_days": float(row.ordinary_days),
                "countersign_days": float(row.countersign_days),
                "updated_at": row.updated_at,
            }
            for row in rows
        ],
    }


DOC_TYPE_PARAM = OpenApiParameter(
    "doc_type", str, required=False, description="the row to remove; default '' (every type)"
)


@extend_schema(tags=TAGS)
class UnitTimeLimitsView(APIView):
    @extend_schema(
        operation_id="unit_time_limits_retrieve",
        summary="A unit's document time limits (限时办结)",
        responses={200: UnitTimeLimitsSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        unit = _unit_or_404(request, pk, "workflow.time_limit_view")
        return Response(UnitTimeLimitsSerializer(_body(unit)).data)

    @extend_schema(
        operation_id="unit_time_limits_update",
        summary="Set a unit's document time limits (every type, or one type)",
        request=TimeLimitSetSerializer,
        responses={200: UnitTimeLimitsSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def put(self, request: Request, pk: int) -> Response:
        unit = _unit_or_404(request, pk, "workflow.time_limit_set")
        data = TimeLimitSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actions.set_unit_time_limit(
            unit,
            current_user(request),
            doc_type=values["doc_type"],
            ordinary_days=values["ordinary_days"],
            countersign_days=values["countersign_days"],
        )
        return Response(UnitTimeLimitsSerializer(_body(unit)).data)

    @extend_schema(
        operation_id="unit_time_limits_destroy",
        summary="Remove one of a unit's own time-limit rows",
        parameters=[DOC_TYPE_PARAM],
        responses={204: None, **errors(ERR_400, ERR_403, ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        unit = _unit_or_404(request, pk, "workflow.time_limit_remove")
        doc_type = request.query_params.get("doc_type", "")
        if doc_type not in _doc_types():
            raise ApiError(
                "validation_error",
                fields={"doc_type": [Msg("未知的公文种类。", "Unknown document type.")]},
            )
        actions.remove_unit_time_limit(unit, current_user(request), doc_type=doc_type)
        return Response(status=status.HTTP_204_NO_CONTENT)
