"""The accountability API (问责) under /api/v1/accountability/cases/.

Docs: docs/accountability.md#api. Thin views: every change is a function of
api/accountability/actions.py; who may see what is api/accountability/selectors.py. A
case the caller may not see is a 404 (recorded); every read of cases is recorded too
(``accountability.viewed``), because discipline records are themselves audited.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accountability import actions, selectors
from api.accountability.models import AccountabilityCase, CaseStatus, SourceKind
from api.accountability.serializers import (
    CaseFilterSerializer,
    CaseOpenSerializer,
    CaseSerializer,
    DecideInSerializer,
    FindingsInSerializer,
)
from api.accounts.models import User
from api.audit.recorder import record
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
from api.workdays.deadlines import TZ

TAGS = ["accountability"]
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
ERR_OPEN = {
    409: error_response(
        "accountability_case_exists (with case_id) — an undecided case from this source "
        "exists; accountability_source_not_eligible — not red / not overdue / a zero figure"
    )
}
ERR_DECIDED = {409: error_response("accountability_decided — the case is decided")}
ERR_DECIDE = {
    409: error_response(
        "accountability_decided — the case is decided; accountability_findings_required"
        " — record the findings first"
    )
}


def _record_read(user: User, what: str, **detail: Any) -> None:
    record("accountability.viewed", actor=user, detail={"what": what, **detail})


def _case_response(case_id: int, status: int = 200) -> Response:
    case = selectors.with_related(AccountabilityCase.objects.filter(pk=case_id)).get()
    return Response(CaseSerializer(case).data, status=status)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=TZ)


def _check_day(name: str, day: date | None) -> None:
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


class CaseListView(generics.GenericAPIView):
    serializer_class = CaseSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="accountability_cases_list",
        summary="Accountability cases I may see, newest first",
        description="Supervisors: the cases about units in their scope; a unit's leaders "
        "and unit admins: the cases about their unit; anyone else: none. Filters: "
        "`unit`, `status`, `source_kind`, `from`/`to` (the day the case was opened, "
        "Shanghai dates, inclusive).",
        parameters=[
            OpenApiParameter("unit", int, description="Unit id."),
            OpenApiParameter("status", str, enum=CaseStatus.values),
            OpenApiParameter("source_kind", str, enum=SourceKind.values),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Opened on or after."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Opened on or before."),
        ],
        responses={200: CaseSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = CaseFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        cases = selectors.visible_cases(user)
        for name in ("unit", "status", "source_kind"):
            if name in query:
                cases = cases.filter(**{"unit_id" if name == "unit" else name: query[name]})
        first, last = query.get("from"), query.get("to")
        _check_day("from", first)
        _check_day("to", last)
        if first is not None:
            cases = cases.filter(opened_at__gte=_midnight(first))
        if last is not None:
            cases = cases.filter(opened_at__lt=_midnight(last + timedelta(days=1)))
        _record_read(user, "cases", **{k: str(v) for k, v in query.items()})
        page = self.paginate_queryset(selectors.with_related(cases))
        return self.get_paginated_response(CaseSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="accountability_cases_create",
        summary="Open a case (supervisors) from a red-light item, an overdue document or "
        "a statistic",
        description="Give `source_kind` and the one matching source: `supervised_item_id` "
        "(an open item at red), `document_id` (a document past its overall time limit) "
        "or `statistic` ({unit_id, from, to, component}: a figure that is not zero). The "
        "unit concerned and the linked records are taken from the source. A source "
        "outside the caller's scope reads as missing (400, recorded).",
        parameters=[IDEMPOTENCY_HEADER],
        request=CaseOpenSerializer,
        responses={201: CaseSerializer, **errors(ERR_400, ERR_403, ERR_OPEN)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(CaseOpenSerializer, request)
        case = actions.open_case(
            current_user(request),
            source_kind=data["source_kind"],
            reason=data["reason"],
            supervised_item_id=data.get("supervised_item_id"),
            document_id=data.get("document_id"),
            statistic=dict(data["statistic"]) if "statistic" in data else None,
        )
        return _case_response(case.pk, status=201)


class CaseDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="accountability_cases_retrieve",
        summary="One case with its linked records and outcome",
        responses={200: CaseSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        case = selectors.case_or_404(user, pk, "accountability.view")
        _record_read(user, "case", case_id=case.pk)
        return Response(CaseSerializer(case).data)


class FindingsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="accountability_cases_findings",
        summary="Record (or amend before the decision) the findings (supervisors)",
        parameters=[IDEMPOTENCY_HEADER],
        request=FindingsInSerializer,
        responses={200: CaseSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_DECIDED)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(FindingsInSerializer, request)
        case = actions.record_findings(pk, current_user(request), findings=data["findings"])
        return _case_response(case.pk)


class DecideView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="accountability_cases_decide",
        summary="Decide the outcome and close the case (supervisors)",
        parameters=[IDEMPOTENCY_HEADER],
        request=DecideInSerializer,
        responses={200: CaseSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_DECIDE)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(DecideInSerializer, request)
        case = actions.decide(
            pk,
            current_user(request),
            outcome_kind=data["outcome_kind"],
            outcome_text=data["outcome_text"],
        )
        return _case_response(case.pk)
