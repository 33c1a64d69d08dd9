"""Urging endpoints (催办), docs/urging.md#api.

* ``POST /api/v1/tasks/{id}/urge/`` — a manual urge by the task's sender, the
  document's drafter or a supervisor; anyone who cannot see the task 404, who can
  see it but may not urge 403; ``Idempotency-Key`` accepted.
* ``GET /api/v1/tasks/{id}/urges/`` — the task's urges, for whoever may see it.
* ``GET /api/v1/urges/?unit=&from=&to=&kind=`` — the supervisors' statistics feed.

Thin views: the urge itself is ``api.urging.actions.urge``; reads are selectors.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import date_param, int_param
from api.common.schema import ERR_400, ERR_403, ERR_404, error_response, errors, page_parameters
from api.urging import actions, selectors
from api.urging.models import UrgeKind
from api.urging.serializers import UrgeCreateSerializer, UrgeSerializer

TAGS = ["urging"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response with "
    "`Idempotent-Replayed: true` and sends nothing again.",
)
URGE_EXAMPLE = {
    "id": 311,
    "task_id": 4812,
    "kind": "manual",
    "document": {
        "id": 977,
        "title": "关于做好2026年春节期间安全生产工作的通知",
        "doc_number": "",
        "unit_id": 3,
    },
    "unit": {"id": 3, "name": "市政府办公室"},
    "urged": {"id": 41, "display_name": "张伟"},
    "by": {"id": 12, "display_name": "李娜"},
    "message": "请于今天下班前办理。",
    "task_round": 1,
    "elapsed_fraction": 0.8125,
    "notification_id": 90211,
    "created_at": "2026-11-24T15:02:11.204913+08:00",
}


class UrgePagination(CursorPagination):
    ordering = "-created_at"


class TaskUrgeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_urge",
        summary="Urge (催办) the holder of an open task, with a message",
        description=(
            "Allowed for the task's sender (who sent it to the holder), the document's "
            "drafter or the submitter of the run, and supervisors of the document's or "
            "the holder's unit. Someone who cannot see the task gets 404, someone who "
            "can see it but may not urge 403 `urge_not_allowed` (both audited). Only "
            "open tasks (409 `task_not_open`). One urge per task per person every "
            "GOVDESK_URGE_MANUAL_INTERVAL_MINUTES (30): else 429 `urge_too_soon` with "
            "`retry_after` seconds (and a Retry-After header). Across every urger and "
            "supervision urges, the holder is urged about one document at most "
            "GOVDESK_URGE_CAP_PER_WINDOW (3) times per GOVDESK_URGE_CAP_WINDOW_MINUTES "
            "(60): else 429 `urge_capped` with `retry_after`. Both refusals are audited. "
            "The holder gets a high-urgency notification of kind `urge`; only the first "
            "urge of the window may climb to SMS, the others come in-app, by push and IM."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=UrgeCreateSerializer,
        responses={
            201: UrgeSerializer,
            **errors(
                ERR_400,
                ERR_403,
                ERR_404,
                {409: error_response("task_not_open — the task is no longer open")},
                {429: error_response("urge_too_soon / urge_capped — see retry_after")},
            ),
        },
        examples=[
            OpenApiExample("Urge", value={"message": "请于今天下班前办理。"}, request_only=True),
            OpenApiExample("Urged", value=URGE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        serializer = UrgeCreateSerializer(data=request.data if request.data else {})
        serializer.is_valid(raise_exception=True)
        created = actions.urge(pk, current_user(request), serializer.validated_data["message"])
        item = selectors.urges_of_task(created.task_id).get(pk=created.pk)
        return Response(UrgeSerializer(item).data, status=status.HTTP_201_CREATED)


class TaskUrgeListView(generics.ListAPIView):
    serializer_class = UrgeSerializer
    pagination_class = UrgePagination

    def get_queryset(self):
        user = current_user(self.request)
        task = actions.task_for_urging(user, int(self.kwargs["pk"]), "task.urges_view")
        return selectors.urges_of_task(task.pk)

    @extend_schema(
        tags=TAGS,
        operation_id="tasks_urges",
        summary="The urges of a task, newest first",
        description="For whoever may see the task (its holder, the document's readers, "
        "supervisors of its unit); anyone else 404. Cursor-paginated.",
        parameters=page_parameters(),
        responses={200: UrgeSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UrgeFeedView(generics.ListAPIView):
    serializer_class = UrgeSerializer
    pagination_class = UrgePagination

    def get_queryset(self):
        request = self.request
        first, last = date_param(request, "from"), date_param(request, "to")
        if first and last and last < first:
            raise ApiError(
                "validation_error",
                fields={"to": [t("结束日期不能早于开始日期。", "to must not be before from.")]},
            )
        kind = request.query_params.get("kind") or None
        if kind is not None and kind not in UrgeKind.values:
            raise ApiError(
                "validation_error",
                fields={"kind": [t("须为 auto_yellow、auto_red 或 manual。", "Unknown kind.")]},
            )
        return selectors.urge_feed(
            current_user(request),
            unit_id=int_param(request, "unit"),
            first=first,
            last=last,
            kind=kind,
        )

    @extend_schema(
        tags=TAGS,
        operation_id="urges_list",
        summary="Urge statistics feed for supervisors (督查), newest first",
        description=(
            "Urges whose urged person's unit lies in a subtree the caller supervises. "
            "`unit`: only that unit's subtree (outside the caller's: 404); `from`/`to`: "
            "dates (YYYY-MM-DD, Asia/Shanghai, inclusive); `kind`: auto_yellow, "
            "auto_red or manual. Not a supervisor: 403. Cursor-paginated; the query "
            "count does not grow with the page size."
        ),
        parameters=[
            OpenApiParameter("unit", OpenApiTypes.INT, description="unit id (its subtree)"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day, inclusive"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day, inclusive"),
            OpenApiParameter("kind", str, enum=UrgeKind.values),
            *page_parameters(),
        ],
        responses={200: UrgeSerializer(many=True), **errors(ERR_400, ERR_403, ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
