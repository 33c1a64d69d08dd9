"""The statistics API (效能统计) under /api/v1/stats/, read-only.

Docs: docs/supervision.md#statistics-api. Supervisors read every unit in their scope,
a leader their own unit (api/stats/access.py); every query is recorded in the audit
log with its parameters (``stats.queried``). The figures come from aggregate queries
in api/stats/compute.py; ``?format=csv`` / ``?format=xlsx`` export the same rows, and
``report.pdf`` is the annual assessment report.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts.models import Unit, User
from api.audit.recorder import record
from api.common.auth import current_user
from api.common.datetimes import ClientJSONRenderer
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.pagination import CursorPagination
from api.common.people import person_ref
from api.common.schema import ERR_400, ERR_403, ERR_404, errors
from api.stats import access, compute, contributions
from api.stats.renderers import (
    CSVRenderer,
    FirstRenderer,
    JsonErrorsMixin,
    PDFRenderer,
    XLSXRenderer,
)
from api.stats.report import build_report
from api.stats.serializers import (
    PeriodQuerySerializer,
    PersonStatsSerializer,
    StatTaskSerializer,
    StepStatsListSerializer,
    UnitStatsSerializer,
)
from api.workdays.deadlines import TZ
from api.workflow.models import StepKind, Task

TAGS = ["stats"]
MAX_PERIOD_DAYS = 400
# The dates a period may name. Outside them the period's end (``to`` + 1 day) and its
# Shanghai midnights in UTC leave Python's date range: a 500 instead of a 400.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
XLSX = XLSXRenderer.media_type
EXPORT_FORMATS = ("csv", "xlsx")

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (default: 1 January this year)."
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
]
FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=["json", *EXPORT_FORMATS], description="csv / xlsx: the whole export."
)
UNIT_PARAMETER = OpenApiParameter("unit", int, description="Unit id (default: my unit).")
# Errors are JSON whatever format was asked for (renderers.JsonErrorsMixin).
STAT_ERRORS = {
    (status, "application/json"): response
    for status, response in errors(ERR_400, ERR_403, ERR_404).items()
}


def export_responses(json_schema: Any, description: str) -> dict[Any, Any]:
    return {
        (200, "application/json"): json_schema,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=f"{description} (CSV)"),
        (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=f"{description} (XLSX)"),
        **STAT_ERRORS,
    }


FIGURE_COLUMNS = [
    ("items", "办件数"),
    ("median_hours", "用时中位数(工作小时)"),
    ("p90_hours", "用时P90(工作小时)"),
    ("overdue", "逾期件数"),
    ("open_overdue", "其中未办结逾期"),
    ("overdue_rate", "逾期率"),
    ("returned", "退回件数"),
    ("return_rate", "退回率"),
    ("slow", "超时办理件数"),
    ("slow_rate", "超时办理率"),
]


def _today() -> date:
    return timezone.now().astimezone(TZ).date()


def _query(request: Request) -> dict[str, Any]:
    params = PeriodQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return cast(dict[str, Any], params.validated_data)


def _period(query: dict[str, Any]) -> compute.Period:
    today = _today()
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
    if (last - first) > timedelta(days=MAX_PERIOD_DAYS):
        raise ApiError(
            "validation_error",
            fields={"to": [t("统计期间最长 400 天。", "The period is at most 400 days.")]},
        )
    return compute.Period(first, last)


def _audit(user: User, endpoint: str, period: compute.Period, **detail: Any) -> None:
    record(
        "stats.queried",
        actor=user,
        detail={"endpoint": endpoint, **period.query(), **detail},
    )


def _wants_export(request: Request, view: Any) -> str | None:
    fmt = getattr(request.accepted_renderer, "format", "json")
    if fmt not in EXPORT_FORMATS:
        return None
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        # An export holds every row, yet a bad page_size is still a 400, not ignored.
        paginator.get_page_size(request)
    return fmt


def _export(
    fmt: str, name: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]
) -> Response:
    response = Response({"columns": columns, "rows": rows, "sheet": name})
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _flat_unit(row: dict[str, Any]) -> dict[str, Any]:
    flat = {**row, "unit_id": row["unit"]["id"], "unit": row["unit"]["name"]}
    for key, value in row.get("documents", {}).items():
        flat[f"documents_{key}"] = value
    for component in row["components"]:
        flat[f"deduction_{component['key']}"] = component["deduction"]
    flat.update(contributions.flatten(row))
    return flat


UNIT_COLUMNS = [
    ("unit_id", "单位ID"),
    ("unit", "单位"),
    ("from", "开始日期"),
    ("to", "结束日期"),
    *FIGURE_COLUMNS,
    ("deduction_overdue", "逾期扣分"),
    ("deduction_returned", "退回扣分"),
    ("deduction_slow", "超时扣分"),
    ("score", "效能得分"),
    ("documents_done", "办结公文数"),
    ("documents_on_time", "按时办结"),
    ("documents_late", "超期办结"),
    ("documents_late_hours_total", "超期合计(工作小时)"),
    ("documents_late_hours_max", "最长超期(工作小时)"),
    ("documents_open_overdue", "未办结超期公文"),
]


class StatsView(JsonErrorsMixin, generics.GenericAPIView):
    renderer_classes = [ClientJSONRenderer, CSVRenderer, XLSXRenderer]
    pagination_class = CursorPagination


class UnitPagination(CursorPagination):
    ordering = "id"


class UnitStatsListView(StatsView):
    serializer_class = UnitStatsSerializer
    pagination_class = UnitPagination

    @extend_schema(
        tags=TAGS,
        operation_id="stats_units_list",
        summary="Efficiency figures and score of every unit I may read",
        description="Supervisors: every unit in their scope; a leader: their unit. "
        "JSON is cursor-paginated by unit id; CSV/XLSX export every unit at once.",
        parameters=[*PERIOD_PARAMETERS, FORMAT_PARAMETER],
        responses=export_responses(UnitStatsSerializer(many=True), "one row per unit"),
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        period = _period(_query(request))
        fmt = _wants_export(request, self)
        _audit(user, "units", period, format=fmt or "json")
        weights = compute.Weights.from_settings()
        units: QuerySet[Unit] = scope.units().order_by("id")
        if fmt:
            rows = compute.unit_rows(units, period, weights)
            columns = [*UNIT_COLUMNS, *contributions.columns()]
            return _export(fmt, "units", columns, [_flat_unit(r) for r in rows])
        page = self.paginate_queryset(units) or []
        return self.get_paginated_response(compute.unit_rows(page, period, weights))


class UnitStatsDetailView(StatsView):
    serializer_class = UnitStatsSerializer
    renderer_classes = [ClientJSONRenderer]

    @extend_schema(
        tags=TAGS,
        operation_id="stats_units_retrieve",
        summary="One unit's figures, score and the components behind it",
        parameters=PERIOD_PARAMETERS,
        responses={(200, "application/json"): UnitStatsSerializer, **STAT_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        period = _period(_query(request))
        unit = access.unit_or_404(user, scope, pk)
        _audit(user, "unit", period, unit_id=unit.pk)
        rows = compute.unit_rows([unit], period, compute.Weights.from_settings())
        return Response(rows[0])


def _task_item(task: Task) -> dict[str, Any]:
    principal = task.on_behalf_of or task.assignee
    seconds = task.working_seconds
    return {
        "id": task.pk,
        "document_id": task.document_id,
        "document_title": task.document.title,
        "step_kind": task.step_kind,
        "step_name": task.step_name,
        "person": person_ref(principal),
        "acted_by": person_ref(task.assignee) if task.on_behalf_of_id else None,
        "state": task.state,
        "action": task.action,
        "received_at": task.received_at,
        "due_at": task.due_at,
        "acted_at": task.acted_at,
        "working_seconds": seconds,
        "working_hours": compute.hours(seconds),
    }


class UnitTasksView(JsonErrorsMixin, generics.GenericAPIView):
    serializer_class = StatTaskSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="stats_units_tasks",
        summary="The tasks behind one figure of a unit (every point traces to records)",
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter(
                "component",
                str,
                enum=list(compute.LIST_COMPONENTS),
                description="handled (default), overdue, open_overdue, returned, slow",
            ),
        ],
        responses={(200, "application/json"): StatTaskSerializer(many=True), **STAT_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        query = _query(request)
        period = _period(query)
        unit = access.unit_or_404(user, scope, pk)
        component = query.get("component", "handled")
        _audit(user, "unit_tasks", period, unit_id=unit.pk, component=component)
        tasks = (
            compute.component_tasks(
                component, period, timezone.now(), compute.Weights.from_settings()
            )
            .filter(**{"stat_unit": unit.pk})  # an annotation (compute._principal)
            .select_related("document", "assignee", "on_behalf_of")
            .only(
                "id",
                "document_id",
                "document__title",
                "step_kind",
                "step_name",
                "state",
                "action",
                "received_at",
                "due_at",
                "acted_at",
                "working_seconds",
                "on_behalf_of_id",
                "assignee__id",
                "assignee__display_name",
                "on_behalf_of__id",
                "on_behalf_of__display_name",
            )
        )
        page = self.paginate_queryset(tasks) or []
        data = StatTaskSerializer([_task_item(task) for task in page], many=True).data
        return self.get_paginated_response(data)


def _unit_for(user: User, scope: access.StatsScope, query: dict[str, Any]) -> Unit:
    return access.unit_or_404(user, scope, query.get("unit") or user.unit_id)


PEOPLE_COLUMNS = [
    ("person_id", "人员ID"),
    ("username", "用户名"),
    ("display_name", "姓名"),
    *FIGURE_COLUMNS,
]


class PeopleStatsView(StatsView):
    serializer_class = PersonStatsSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="stats_people_list",
        summary="Figures per person of a unit",
        description="Cursor-paginated by person id (everyone of the unit, also people "
        "with nothing handled); CSV/XLSX export all of them.",
        parameters=[*PERIOD_PARAMETERS, UNIT_PARAMETER, FORMAT_PARAMETER],
        responses=export_responses(PersonStatsSerializer(many=True), "one row per person"),
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        query = _query(request)
        period = _period(query)
        unit = _unit_for(user, scope, query)
        fmt = _wants_export(request, self)
        _audit(user, "people", period, unit_id=unit.pk, format=fmt or "json")
        people = User.objects.filter(unit=unit).order_by("id")
        if fmt:
            everyone = list(people)
            rows = self.rows(everyone, unit, period)
            # The export is a table for people, so it names each person by login too.
            flat = [
                {**r, **r["person"], "person_id": p.pk, "username": p.username}
                for p, r in zip(everyone, rows, strict=True)
            ]
            return _export(fmt, "people", PEOPLE_COLUMNS, flat)
        page = self.paginate_queryset(people) or []
        return self.get_paginated_response(self.rows(page, unit, period))

    @staticmethod
    def rows(people: list[User], unit: Unit, period: compute.Period) -> list[dict[str, Any]]:
        ids = [p.pk for p in people]
        figures = compute.figures_by(
            "stat_person",
            period,
            restrict=Q(on_behalf_of_id__in=ids) | Q(on_behalf_of__isnull=True, assignee_id__in=ids),
        )
        return [
            {"person": person_ref(p), **compute.figures_json(figures.get(p.pk, compute.Figures()))}
            for p in people
        ]


STEP_COLUMNS = [("step_kind", "步骤"), ("step_label", "步骤名称"), *FIGURE_COLUMNS]


class StepStatsView(JsonErrorsMixin, generics.GenericAPIView):
    """Not paginated: at most one row per step kind."""

    renderer_classes = [ClientJSONRenderer, CSVRenderer, XLSXRenderer]
    serializer_class = StepStatsListSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="stats_steps_list",
        summary="Figures per step kind for a unit",
        description="Not paginated: at most one row per step kind (12).",
        parameters=[*PERIOD_PARAMETERS, UNIT_PARAMETER, FORMAT_PARAMETER],
        responses=export_responses(StepStatsListSerializer, "one row per step kind"),
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        query = _query(request)
        period = _period(query)
        unit = _unit_for(user, scope, query)
        fmt = _wants_export(request, self)
        _audit(user, "steps", period, unit_id=unit.pk, format=fmt or "json")
        figures = compute.figures_by("step_kind", period, restrict=compute.unit_filter([unit]))
        labels = dict(StepKind.choices)
        order = list(labels)
        rows = [
            {
                "step_kind": kind,
                "step_label": str(labels.get(kind, kind)),
                **compute.figures_json(figures[kind]),
            }
            for kind in sorted(figures, key=lambda k: order.index(k) if k in order else len(order))
        ]
        if fmt:
            return _export(fmt, "steps", STEP_COLUMNS, rows)
        return Response(
            {"unit": {"id": unit.pk, "name": unit.name}, **period.query(), "results": rows}
        )


class ReportPdfView(JsonErrorsMixin, generics.GenericAPIView):
    # The report is a PDF whatever the Accept header says; errors are JSON (the mixin).
    content_negotiation_class = FirstRenderer
    renderer_classes = [PDFRenderer]
    serializer_class = UnitStatsSerializer
    pagination_class = None

    @extend_schema(
        tags=TAGS,
        operation_id="stats_report_pdf",
        summary="The annual assessment report (PDF, Chinese) of every unit I may read",
        parameters=PERIOD_PARAMETERS,
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="A4 landscape PDF with embedded CJK fonts"
            ),
            **STAT_ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        scope = access.require_scope(user, request.path)
        period = _period(_query(request))
        _audit(user, "report_pdf", period)
        weights = compute.Weights.from_settings()
        rows = compute.unit_rows(scope.units().order_by("path"), period, weights)
        pdf = build_report(rows, period, compute.formula(weights))
        response = Response(pdf, content_type="application/pdf")
        name = f"efficiency-{period.first:%Y%m%d}-{period.last:%Y%m%d}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
