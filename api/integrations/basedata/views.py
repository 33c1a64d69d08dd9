"""The base data API under /api/v1/integrations/basedata/. Docs: docs/integrations.md#base-data.

Thin views: changes are api/integrations/basedata/actions.py, visibility is
selectors.py. Reads of the query log are audited (it names who looked up whom).
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit.recorder import record
from api.common.auth import current_user
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
from api.integrations.basedata import actions, selectors
from api.integrations.basedata.models import (
    AccessRequest,
    BaseDatabase,
    QueryOutcome,
    RequestStatus,
)
from api.integrations.basedata.serializers import (
    AccessRequestInSerializer,
    AccessRequestSerializer,
    ApproveInSerializer,
    DatasetFilterSerializer,
    DatasetRefSerializer,
    DatasetSerializer,
    QueryInSerializer,
    QueryLogFilterSerializer,
    QueryLogSerializer,
    QueryResultSerializer,
    RefuseInSerializer,
    RequestFilterSerializer,
)

TAGS = ["integrations"]
ERR_QUERY_403 = {
    403: error_response(
        "basedata_no_grant — no approved request of yours (for your current unit); "
        "basedata_grant_expired — your grant's period does not cover today"
    )
}
ERR_RETIRED = {409: error_response("basedata_dataset_retired — the platform retired it")}
ERR_UPSTREAM = {
    502: error_response("basedata_upstream_error — the platform refused or failed the query"),
    503: error_response(
        "basedata_unavailable — the platform cannot be reached; basedata_not_configured"
    ),
}
ERR_REQUEST_409 = {
    409: error_response(
        "basedata_request_pending (with request_id) — you have a pending request for it; "
        "basedata_dataset_retired"
    )
}
ERR_DECIDE_403 = {
    403: error_response("basedata_not_owner — not an admin of the owner unit; self_approval")
}
ERR_NOT_GRANTED = {409: error_response("basedata_not_granted — not an approved grant")}
ERR_DECIDED = {409: error_response("basedata_request_decided — already decided")}


class CataloguePagination(CursorPagination):
    ordering = "id"


def _dataset_context(user: Any, dataset_ids: list[int]) -> dict[str, Any]:
    """The caller's grant in force per dataset, in one query."""
    day = selectors.today()
    grants: dict[int, AccessRequest] = {}
    for grant in selectors.grants_of(user, dataset_ids).filter(
        starts_on__lte=day, ends_on__gte=day
    ):
        best = grants.get(grant.dataset_id)
        if best is None or (grant.access_level, grant.ends_on) > (best.access_level, best.ends_on):
            grants[grant.dataset_id] = grant
    return {"grants": grants}


class DatasetListView(generics.GenericAPIView):
    serializer_class = DatasetSerializer
    pagination_class = CataloguePagination

    @extend_schema(
        tags=TAGS,
        operation_id="basedata_datasets_list",
        summary="The base data catalogue (every signed-in person may read it)",
        description="Datasets of the four base databases, with their owner unit, fields "
        "(personal ones marked) and query parameters; `my_grant` is the caller's grant "
        "in force today. Filters: `database`, `active`.",
        parameters=[
            OpenApiParameter("database", str, enum=BaseDatabase.values),
            OpenApiParameter("active", bool),
        ],
        responses={200: DatasetSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = DatasetFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        datasets = selectors.datasets()
        for name in ("database", "active"):
            if query.get(name) is not None:
                datasets = datasets.filter(**{name: query[name]})
        page = self.paginate_queryset(datasets)
        context = _dataset_context(user, [d.pk for d in page or []])
        return self.get_paginated_response(DatasetSerializer(page, many=True, context=context).data)


class DatasetDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="basedata_datasets_retrieve",
        summary="One dataset of the catalogue",
        responses={200: DatasetSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        dataset = selectors.dataset_or_404(pk)
        context = _dataset_context(current_user(request), [dataset.pk])
        return Response(DatasetSerializer(dataset, context=context).data)


class DatasetQueryView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="basedata_datasets_query",
        summary="Query a dataset through GovDesk (needs a grant in force)",
        description="Checks the caller's grant, asks the base-data platform, returns the "
        "catalogue's fields only, with personal fields masked unless the grant is "
        "`unmasked`, at most `limit` rows (default 20, cap GOVDESK_BASEDATA_MAX_ROWS, 100). "
        "Every query — refused and failed ones too — is in the query log and the audit "
        "log. Not idempotent-keyed: a query changes nothing but the log.",
        request=QueryInSerializer,
        responses={
            200: QueryResultSerializer,
            **errors(ERR_400, ERR_QUERY_403, ERR_404, ERR_RETIRED, ERR_UPSTREAM),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(QueryInSerializer, request)
        log, rows, dataset = actions.run_query(
            current_user(request), pk, parameters=dict(data["parameters"]), limit=data.get("limit")
        )
        return Response(
            {
                "query_id": log.pk,
                "dataset": DatasetRefSerializer(dataset).data,
                "access_level": log.access_level,
                "fields": dataset.fields,
                "rows": rows,
                "rows_returned": log.rows_returned,
                "truncated": log.truncated,
            }
        )


def _request_response(request_id: int, status: int = 200) -> Response:
    found = selectors.with_related(AccessRequest.objects.filter(pk=request_id)).get()
    return Response(AccessRequestSerializer(found).data, status=status)


class AccessRequestListView(generics.GenericAPIView):
    serializer_class = AccessRequestSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="basedata_access_requests_list",
        summary="Access requests I filed or may decide, newest first",
        description="`scope=mine`: the caller's own; `scope=to_decide`: requests for "
        "datasets whose owner unit the caller administers; neither: both. Filters: "
        "`status`, `dataset`.",
        parameters=[
            OpenApiParameter("status", str, enum=RequestStatus.values),
            OpenApiParameter("dataset", int),
            OpenApiParameter("scope", str, enum=["mine", "to_decide"]),
        ],
        responses={200: AccessRequestSerializer(many=True), **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = RequestFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        found = selectors.visible_requests(user)
        if query.get("scope") == "mine":
            found = found.filter(requester=user)
        elif query.get("scope") == "to_decide":
            found = found.exclude(requester=user)
        if "status" in query:
            found = found.filter(status=query["status"])
        if "dataset" in query:
            found = found.filter(dataset_id=query["dataset"])
        page = self.paginate_queryset(selectors.with_related(found))
        return self.get_paginated_response(AccessRequestSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="basedata_access_requests_create",
        summary="Request access to a dataset, for your unit, with a purpose and a period",
        description="`starts_on` today or later, `ends_on` within 366 days of it; "
        "`access_level` `masked` (default) or `unmasked`. The owner unit's admins are "
        "notified.",
        parameters=[IDEMPOTENCY_HEADER],
        request=AccessRequestInSerializer,
        responses={201: AccessRequestSerializer, **errors(ERR_400, ERR_404, ERR_REQUEST_409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(AccessRequestInSerializer, request)
        created = actions.request_access(
            current_user(request),
            data["dataset_id"],
            purpose=data["purpose"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            access_level=data["access_level"],
        )
        return _request_response(created.pk, status=201)


class AccessRequestDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="basedata_access_requests_retrieve",
        summary="One access request (its requester and the owner unit's admins)",
        responses={200: AccessRequestSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        found = selectors.request_or_404(current_user(request), pk, "basedata.request_view")
        return Response(AccessRequestSerializer(found).data)


class ApproveView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="basedata_access_requests_approve",
        summary="Approve a pending request (an admin of the dataset's owner unit)",
        parameters=[IDEMPOTENCY_HEADER],
        request=ApproveInSerializer,
        responses={
            200: AccessRequestSerializer,
            **errors(ERR_400, ERR_DECIDE_403, ERR_404, ERR_DECIDED),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(ApproveInSerializer, request)
        decided = actions.approve(pk, current_user(request), reason=data["reason"])
        return _request_response(decided.pk)


class RefuseView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="basedata_access_requests_refuse",
        summary="Refuse a pending request, with a reason (an admin of the owner unit)",
        parameters=[IDEMPOTENCY_HEADER],
        request=RefuseInSerializer,
        responses={
            200: AccessRequestSerializer,
            **errors(ERR_400, ERR_DECIDE_403, ERR_404, ERR_DECIDED),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(RefuseInSerializer, request)
        decided = actions.refuse(pk, current_user(request), reason=data["reason"])
        return _request_response(decided.pk)


class RevokeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="basedata_access_requests_revoke",
        summary="Revoke an approved grant before its end, with a reason (owner unit's admin)",
        parameters=[IDEMPOTENCY_HEADER],
        request=RefuseInSerializer,
        responses={
            200: AccessRequestSerializer,
            **errors(ERR_400, ERR_DECIDE_403, ERR_404, ERR_NOT_GRANTED),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(RefuseInSerializer, request)
        revoked = actions.revoke(pk, current_user(request), reason=data["reason"])
        return _request_response(revoked.pk)


class QueryLogListView(generics.GenericAPIView):
    serializer_class = QueryLogSerializer
    pagination_class = CursorPagination

    @extend_schema(
        tags=TAGS,
        operation_id="basedata_query_logs_list",
        summary="The query log: my queries, and every query of datasets my unit owns",
        description="Parameters are shown as sent (who looked up whom); reading the log "
        "is itself audited. Filters: `dataset`, `outcome`.",
        parameters=[
            OpenApiParameter("dataset", int),
            OpenApiParameter("outcome", str, enum=QueryOutcome.values),
        ],
        responses={200: QueryLogSerializer(many=True), **errors(ERR_400, ERR_403, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        params = QueryLogFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = cast(dict[str, Any], params.validated_data)
        logs = selectors.visible_logs(user)
        if "dataset" in query:
            logs = logs.filter(dataset_id=query["dataset"])
        if "outcome" in query:
            logs = logs.filter(outcome=query["outcome"])
        record("basedata.log_viewed", actor=user, detail={k: str(v) for k, v in query.items()})
        page = self.paginate_queryset(logs)
        return self.get_paginated_response(QueryLogSerializer(page, many=True).data)
