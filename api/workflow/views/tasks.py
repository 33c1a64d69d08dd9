"""The mobile approval API: to-do/done lists, a task, the one-tap approve and the
other task actions, batch approve, and the badge counts.

Docs: docs/mobile-api.md. Thin views: every state change is a function of
api/workflow/actions/ (atomic, audited); reads come from api/workflow/selectors.py.
Every POST accepts ``Idempotency-Key`` (api.common.idempotency). Another person's
task is a 404 (the selectors/actions raise it and record the denial); a task that is
no longer open is 409 ``task_not_open``.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.authentication import current_session
from api.accounts.models import User
from api.common.auth import current_user
from api.common.errors import ApiError, message_for
from api.common.i18n import t
from api.common.idempotency import idempotent
from api.common.params import choice_param
from api.common.people import person_ref
from api.common.schema import (
    ERR_400,
    ERR_404,
    ERR_422,
    IDEMPOTENCY_HEADER,
    error_response,
    errors,
    page_parameters,
)
from api.common.serializers import validated_body
from api.workflow import actions, rules, selectors, step_up
from api.workflow.models import InstanceState, Task
from api.workflow.pagination_tasks import DONE_KEY, TODO_KEY, KeysetPagination
from api.workflow.serializers.tasks import (
    MAX_BATCH,
    EmptyBodySerializer,
    TaskAddCountersignerSerializer,
    TaskApproveSerializer,
    TaskBatchApproveSerializer,
    TaskBatchResultSerializer,
    TaskDetailSerializer,
    TaskPageSerializer,
    TaskReturnSerializer,
    TaskSummarySerializer,
    TaskTransferSerializer,
    TrailEntrySerializer,
)
from api.workflow.task_results import (
    TaskResultSerializer,
    same_or_reload,
    task_item,
    task_result,
)

TAGS = ["tasks"]
ERR_TASK_409 = {409: error_response("task_not_open — the task was already acted on")}


# Only the columns a list item and the allowed-actions rules read: the document's
# body and the instance's step snapshot are large JSON the list never shows.
LIST_FIELDS = (
    "id",
    "instance_id",
    "document_id",
    "step_order",
    "step_kind",
    "step_name",
    "position",
    "assignee_id",
    "on_behalf_of_id",
    "sender_id",
    "state",
    "received_at",
    "due_at",
    "paused_at",  # the deadline light (api.workflow.lights) stops the clock while paused
    "paused_seconds",
    "acted_at",
    "action",  # 已办 rows: the decision and the opinion
    "opinion",
    "read_at",
    "batchable",
    "urgency_rank",
    "round",
    "document__id",
    "document__title",
    "document__doc_number",
    "document__urgency",
    "document__doc_type",
    "document__due_at",  # the document's overall time limit (限时办结) and whether it is late
    "document__overdue_at",
    "document__limit_done_at",
    "document__limit_paused_at",
    "sender__id",
    "sender__display_name",
    "on_behalf_of__id",
    "on_behalf_of__display_name",
    "assignee__id",
    "assignee__display_name",
    "instance__id",
    "instance__state",
    "instance__round",
    "instance__step_sender_id",
    "instance__started_by_id",
)


def allowed_for_page(page: list[Any], user: User) -> dict[int, dict[str, dict]]:
    """``rules.allowed_actions`` for every task of a page in a constant number of
    queries. Only the withdraw rule reads rows (the current round of a running
    instance the user sent on); those rounds are loaded in one query for the whole
    page and the rule is applied to them (rules.withdraw_refusal), instead of one
    query per task inside rules.allowed_actions."""
    needs_round = {
        task.instance_id: task.instance
        for task in page
        if task.instance.state == InstanceState.RUNNING and task.instance.step_sender_id == user.pk
    }
    rounds: dict[int, list[Any]] = {pk: [] for pk in needs_round}
    if needs_round:
        current = Q()
        for pk, instance in needs_round.items():
            current |= Q(instance_id=pk, round=instance.round)
        for row in Task.objects.filter(current).only("id", "instance_id", "acted_at"):
            rounds[row.instance_id].append(row)
    result: dict[int, dict[str, dict]] = {}
    for task in page:
        if task.instance_id in needs_round:
            # Evaluate the other rules without the per-task round query.
            shadow = copy.copy(task)
            shadow.instance = copy.copy(task.instance)
            shadow.instance.step_sender_id = None
            verdicts = rules.allowed_actions(shadow, user)
            code = rules.withdraw_refusal(task.instance, user, rounds[task.instance_id])
            verdicts["withdraw"] = (
                {"allowed": True}
                if code is None
                else {"allowed": False, "code": code, "reason": message_for(code)}
            )
        else:
            verdicts = rules.allowed_actions(task, user)
        result[task.pk] = verdicts
    return result


ITEM_EXAMPLE = {
    "id": 4812,
    "state": "open",
    "document": {
        "id": 977,
        "title": "关于做好2026年春节期间安全生产工作的通知",
        "doc_number": "",
        "urgency": "urgent",
        "doc_type": "notice",
        "due_at": "2026-11-27T09:12:03.114512+08:00",
        "overdue": False,
    },
    "step": {"kind": "countersign", "name": "会签"},
    "from": {"id": 31, "display_name": "办公室主任"},
    "on_behalf_of": None,
    "received_at": "2026-11-24T09:12:03.114512+08:00",
    "due_at": "2026-11-27T09:12:03.114512+08:00",
    "overdue": False,
    "deadline_light": "green",
    "unread": True,
    "actions": ["approve", "return", "transfer", "add_countersigner"],
}


class TaskListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_list",
        summary="My to-do (待办) or done (已办) tasks, most urgent first",
        description=(
            "`state=todo` (default): open tasks ordered by urgency (very_urgent, urgent, "
            "normal), then due_at ascending (overdue first), tasks without a deadline "
            "last. `state=done`: tasks I acted on, newest first. Keyset cursor "
            "pagination: follow `next`; `page_size` 1–100, default 20. The query "
            "count does not depend on the page size. ETag/304 and gzip apply."
        ),
        parameters=[
            OpenApiParameter("state", str, enum=["todo", "done"], default="todo"),
            *page_parameters(
                default=KeysetPagination.page_size, maximum=KeysetPagination.max_page_size
            ),
        ],
        responses={
            200: OpenApiResponse(
                TaskPageSerializer,
                examples=[
                    OpenApiExample(
                        "A page",
                        value={"next": None, "previous": None, "results": [ITEM_EXAMPLE]},
                    )
                ],
            ),
            **errors(ERR_400, ERR_404),
        },
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        state = request.query_params.get("state", "todo")
        if state not in ("todo", "done"):
            raise ApiError(
                "validation_error", fields={"state": [t("须为 todo 或 done。", "todo or done.")]}
            )
        if state == "todo":
            queryset, paginator = selectors.todo_tasks(user), KeysetPagination(TODO_KEY)
        else:
            queryset, paginator = selectors.done_tasks(user), KeysetPagination(DONE_KEY)
        page = paginator.paginate_queryset(queryset.only(*LIST_FIELDS), request)
        allowed = allowed_for_page(page, user)
        data = [task_item(task, allowed[task.pk]) for task in page]
        if state == "done":  # what was decided, with which opinion, when (已办 rows)
            for item, task in zip(data, page, strict=True):
                item.update(
                    {"action": task.action, "opinion": task.opinion, "acted_at": task.acted_at}
                )
        return paginator.get_paginated_response(data)


class TaskDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_retrieve",
        summary="One task: the document with its body, attachments, trail and actions",
        description="`allowed_actions` says for every action whether it is allowed now "
        "and, if not, why (code and reason). Opening an open task marks it read, "
        "except with `read=0` (fetched ahead for reading offline).",
        parameters=[OpenApiParameter("read", str, enum=["0"], required=False)],
        responses={200: TaskDetailSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        task = selectors.task_or_404(user, pk)
        # ?read=0: fetched ahead for reading offline (the PWA's to-do list), not opened.
        if choice_param(request, "read", ["0"]) is None:
            actions.mark_read(task.pk, user)  # and its notifications: stops their ladder
        document = task.document
        item = task_item(task)
        item.update(
            {
                "action": task.action,
                "opinion": task.opinion,
                "acted_at": task.acted_at,
                "confirmed_with": task.confirmed_with,
                "batchable": task.batchable,
                "document": {
                    **item["document"],
                    "direction": document.direction,
                    "status": document.status,
                    "unit": {"id": document.unit_id, "name": document.unit.name},
                    "drafter": person_ref(document.drafter),
                    "header_text": document.header_text,
                    "main_recipients": document.main_recipients,
                    "cc": document.cc,
                    "body": document.body,
                    "version": document.version,
                },
                "attachments": [
                    {
                        "id": a.pk,
                        "name": a.original_name,
                        "kind": a.kind,
                        "content_type": a.content_type,
                        "size": a.size,
                        "uploaded_at": a.uploaded_at,
                    }
                    for a in document.attachments.filter(deleted_at__isnull=True).order_by("id")
                ],
                "trail": TrailEntrySerializer(selectors.trail(document), many=True).data,
                "allowed_actions": selectors.allowed_actions(task, user),
            }
        )
        return Response(TaskDetailSerializer(item).data)


ACTION_ERRORS = errors(ERR_400, ERR_404, ERR_TASK_409, ERR_422)


class ApproveView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_approve",
        summary="Approve (同意) — the one tap: an empty body is enough",
        description=(
            "The body is optional. Empty (or `{}`), the step's standard opinion (同意, "
            "已阅 …) is recorded. Send `Idempotency-Key` so a double tap or an offline "
            "replay approves once. With `webauthn` (a passkey assertion for the challenge "
            "of `step-up-options`) the server verifies it first and the task records "
            "`confirmed_with: passkey`; a wrong, expired or reused one is 403 "
            "`step_up_failed` and nothing is recorded."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=TaskApproveSerializer,
        responses={
            200: TaskResultSerializer,
            **ACTION_ERRORS,
            403: error_response("step_up_failed — the passkey step-up did not verify"),
        },
        examples=[
            OpenApiExample("One tap (empty body)", value=None, request_only=True),
            OpenApiExample(
                "With an opinion", value={"opinion": "同意，请抓紧落实。"}, request_only=True
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(TaskApproveSerializer, request)
        user = current_user(request)
        if "webauthn" in data:  # passkey step-up: verified before anything is recorded
            task = step_up.approve_confirmed(
                pk,
                user,
                current_session(request),
                opinion=data.get("opinion", ""),
                assertion=dict(data["webauthn"]),
            )
        else:
            task = actions.approve(pk, user, opinion=data.get("opinion", ""))
        return Response(task_result(same_or_reload(task, pk, user), user))


class ReturnView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_return",
        summary="Return (退回) to the previous step or to the drafter; opinion required",
        parameters=[IDEMPOTENCY_HEADER],
        request=TaskReturnSerializer,
        responses={200: TaskResultSerializer, **ACTION_ERRORS},
        examples=[
            OpenApiExample(
                "Return to the drafter",
                value={"opinion": "请补充资金来源。", "to": "drafter"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(TaskReturnSerializer, request)
        user = current_user(request)
        task = actions.return_task(pk, user, opinion=data["opinion"], to=data["to"])
        return Response(task_result(same_or_reload(task, pk, user), user))


class TransferView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_transfer",
        summary="Transfer (转交) the task to another person",
        parameters=[IDEMPOTENCY_HEADER],
        request=TaskTransferSerializer,
        responses={200: TaskResultSerializer, **ACTION_ERRORS},
        examples=[
            OpenApiExample(
                "Transfer",
                value={"to_user_id": 42, "opinion": "请王科长办理。"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(TaskTransferSerializer, request)
        user = current_user(request)
        # transfer returns the new task (someone else's); the answer shows this one.
        actions.transfer(pk, user, to_user_id=data["to_user_id"], opinion=data.get("opinion", ""))
        return Response(task_result(selectors.task_or_404(user, pk), user))


class AddCountersignerView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_add_countersigner",
        summary="Add countersigners (加签) to this step",
        description="Returns the new tasks' ids and this task.",
        parameters=[IDEMPOTENCY_HEADER],
        request=TaskAddCountersignerSerializer,
        responses={
            200: TaskResultSerializer,
            **ACTION_ERRORS,
            403: error_response(
                "not_sender — neither the task's holder nor whoever sent the document "
                "to this step (recorded)"
            ),
        },
        examples=[
            OpenApiExample(
                "Add two",
                value={"user_ids": [21, 22], "opinion": "请财政局会签。"},
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = validated_body(TaskAddCountersignerSerializer, request)
        user = current_user(request)
        actions.add_countersigner(
            pk, user, user_ids=data["user_ids"], opinion=data.get("opinion", "")
        )
        return Response(task_result(selectors.task_or_404(user, pk), user))


class AcknowledgeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_acknowledge",
        summary="Acknowledge a circulated document (传阅已阅)",
        parameters=[IDEMPOTENCY_HEADER],
        request=EmptyBodySerializer,
        responses={200: TaskResultSerializer, **ACTION_ERRORS},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(EmptyBodySerializer, request)
        user = current_user(request)
        task = actions.acknowledge(pk, user)
        return Response(task_result(same_or_reload(task, pk, user), user))


class BatchApproveView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tasks_batch_approve",
        summary=f"Batch approve (批量同意) up to {MAX_BATCH} batchable tasks",
        description=(
            "Each task is approved on its own (one failing does not undo the others); "
            "each item's result is reported: `ok`, or a `code` such as not_batchable, "
            f"task_not_open, not_found. More than {MAX_BATCH} ids: 422 batch_too_large."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=TaskBatchApproveSerializer,
        responses={200: TaskBatchResultSerializer, **errors(ERR_400, ERR_422)},
        examples=[
            OpenApiExample("Request", value={"task_ids": [4812, 4813]}, request_only=True),
            OpenApiExample(
                "Response",
                value={
                    "results": [
                        {"task_id": 4812, "ok": True},
                        {
                            "task_id": 4813,
                            "ok": False,
                            "code": "not_batchable",
                            "message": "该环节不允许批量处理。",
                        },
                    ]
                },
                response_only=True,
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(TaskBatchApproveSerializer, request)
        ids = data["task_ids"]
        if len(ids) > MAX_BATCH:
            raise ApiError("batch_too_large", status_code=422)
        results = actions.batch_approve(ids, current_user(request))
        return Response(TaskBatchResultSerializer({"results": results}).data)


class SummaryView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="me_summary",
        summary="Badge counts: open tasks, overdue, unread",
        responses={
            200: OpenApiResponse(
                TaskSummarySerializer,
                examples=[OpenApiExample("Badge", value={"todo": 7, "overdue": 1, "unread": 3})],
            ),
            **errors(),
        },
    )
    def get(self, request: Request) -> Response:
        return Response(TaskSummarySerializer(selectors.summary(current_user(request))).data)


__all__ = [
    "AcknowledgeView",
    "AddCountersignerView",
    "ApproveView",
    "BatchApproveView",
    "ReturnView",
    "SummaryView",
    "TaskDetailView",
    "TaskListView",
    "TransferView",
]
