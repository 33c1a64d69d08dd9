"""The e-supervision API (电子监察) under /api/v1/integrations/esupervision/, read-only.

Docs: docs/integrations.md#e-supervision. Scoped exactly like the statistics
(api/stats/access.py): supervisors read every unit in their scope, a leader the unit
their leader role is scoped to, anyone else is refused (403, recorded); a unit outside
the caller's view is a 404 (recorded). Every query is recorded (``esupervision.queried``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts.models import Unit, User
from api.audit.recorder import record
from api.common.auth import current_user
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.pagination import CursorPagination
from api.common.schema import ERR_400, ERR_403, ERR_404, errors
from api.integrations.esupervision import figures
from api.integrations.esupervision.models import ServiceItem
from api.integrations.esupervision.serializers import (
    ItemQuerySerializer,
    PeriodQuerySerializer,
    ServiceItemSerializer,
    UnitRowSerializer,
)
from api.stats import access
from api.workdays.deadlines import TZ

TAGS = ["integrations"]
MAX_PERIOD_DAYS = 400
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (default: 1 January this year)."
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
]


def _read(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return cast(dict[str, Any], params.validated_data)


def _period(query: dict[str, Any]) -> tuple[date, date]:
    today = timezone.now().astimezone(TZ).date()
    last = query.get("to") or today
    first = query.get("from") or date(last.year, 1, 1)
    for name in ("from", "to"):
        day = query.get(name)
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise ApiError(
                "validation_error",
                fields={
                    name: [
                        t(
                            "日期须在 1900-01-01 至 2999-12-31 之间。",
                            "The date must lie between 1900-01-01 and 2999-12-31.",
                        )
                    ]
                },
            )
    if last < first:
        raise ApiError(
            "validation_error", fields={"to": [t("结束日期早于开始日期。", "to is before from.")]}
        )
    if last - first > timedelta(days=MAX_PERIOD_DAYS):
        raise ApiError(
            "validation_error",
            fields={"to": [t("统计期间最长 400 天。", "The period is at most 400 days.")]},
        )
    return first, last


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time.min, tzinfo=TZ),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=TZ),
    )


def unit_rows(units: list[Unit], first: date, last: date) -> list[dict[str, Any]]:
    start, end = _bounds(first, last)
    ids = [u.pk for u in units]
    values = figures.unit_figures(ids, start, end)
    alerts = figures.alert_counts(ids, start, end)
    return [
        {
            "unit": {"id": unit.pk, "name": unit.name},
            "from": first.isoformat(),
            "to": last.isoformat(),
            **values[unit.pk],
            **alerts[unit.pk],
        }
        for unit in units
    ]


def _audit(user: User, endpoint: str, first: date, last: date, **detail: Any) -> None:
    record(
        "esupervision.queried",
        actor=user,
        detail={"endpoint": endpoint, "from": first.isoformat(), "to": last.isoformat(), **detail},
    )


class UnitPagination(CursorPagination):
    ordering = "id"


class UnitListView(generics.GenericAPIView):
    serializer_class = UnitRowSerializer
    pagination_class = UnitPagination

    @extend_schema(
        tags=TAGS,
        operation_id="esupervision_units_list",
        summary="E-supervision figures of every unit I may read (电子监察)",
        description="Supervisors: every unit in their scope; a leader: their unit. "
        "Cursor-paginated by unit id.",
        parameters=PERIOD_PARAMETERS,
        responses={200: UnitRowSerializer(many=True), **errors(ERR_400, ERR_403, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        first, last = _period(_read(PeriodQuerySerializer, request))
        _audit(user, "units", first, last)
        units: QuerySet[Unit] = scope.units().order_by("id")
        page = self.paginate_queryset(units) or []
        return self.get_paginated_response(unit_rows(list(page), first, last))


class UnitDetailView(generics.GenericAPIView):
    serializer_class = UnitRowSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="esupervision_units_retrieve",
        summary="One unit's e-supervision figures",
        parameters=PERIOD_PARAMETERS,
        responses={200: UnitRowSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        first, last = _period(_read(PeriodQuerySerializer, request))
        unit = access.unit_or_404(user, scope, pk)
        _audit(user, "unit", first, last, unit_id=unit.pk)
        return Response(unit_rows([unit], first, last)[0])


class UnitItemsView(generics.GenericAPIView):
    serializer_class = ServiceItemSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="esupervision_units_items",
        summary="A unit's service items with their stage times and alerts",
        parameters=[
            OpenApiParameter(
                "state", str, enum=["open", "completed"], description="Default: every item."
            )
        ],
        responses={
            200: ServiceItemSerializer(many=True),
            **errors(ERR_400, ERR_403, ERR_404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        query = _read(ItemQuerySerializer, request)
        unit = access.unit_or_404(user, scope, pk)
        record(
            "esupervision.queried",
            actor=user,
            detail={"endpoint": "items", "unit_id": unit.pk, "state": query.get("state")},
        )
        items = ServiceItem.objects.filter(unit=unit).prefetch_related("alerts")
        if query.get("state") == "open":
            items = items.filter(complete_at__isnull=True)
        elif query.get("state") == "completed":
            items = items.filter(complete_at__isnull=False)
        page = self.paginate_queryset(items) or []
        return self.get_paginated_response(ServiceItemSerializer(page, many=True).data)
