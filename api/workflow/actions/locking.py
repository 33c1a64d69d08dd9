"""The locking and refusal helpers every workflow action runs through.

Docs: docs/workflow.md#actions and docs/workflow.md#lock-order. Each action is one
transaction that locks the instance row first and then the task rows (always in that
order, so two actions on one document never deadlock), locking only those rows
(``of=("self",)``, ``no_key=True``: never the joined document or unit), writes its
audit events last, and sends
``tasks_opened`` after commit. A refusal that hides something (404) is recorded with
``record_denied`` outside the transaction, before the error is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import length_between
from api.workflow import engine, routing
from api.workflow.engine import Ctx
from api.workflow.models import (
    InstanceState,
    Task,
    TaskState,
    WorkflowInstance,
)

T = TypeVar("T")

MAX_OPINION = 2000


class _Hidden(Exception):
    """Raised inside a transaction when the object must look absent (404)."""


class _Denied(Exception):
    """Raised inside a transaction for a 403: recorded after the rollback."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _refuse(code: str, status_code: int = 422, **kwargs: Any) -> ApiError:
    return ApiError(code, status_code=status_code, **kwargs)


def _opinion(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_OPINION:
        raise ApiError("validation_error", fields={"opinion": [length_between(0, MAX_OPINION)]})
    return text


def _hidden(action: str, actor: User, task_id: int) -> NotFound:
    record_denied(action, actor=actor, object_type="workflow.task", object_id=task_id)
    return NotFound()


def _on_task(
    audit_action: str,
    task_id: int,
    actor: User,
    work: Callable[[Task, WorkflowInstance, Ctx], T],
    *,
    allow_sender: bool = False,
    with_round: bool = False,
) -> T:
    """Lock instance then task, check the actor may act on it (assignee, or the
    backup acting for an absent assignee; with ``allow_sender`` also whoever opened
    the step), then run ``work``. Hidden tasks are recorded and answered 404."""
    if not isinstance(task_id, int) or not 0 < task_id < 2**63:
        raise _hidden(audit_action, actor, task_id)
    try:
        with transaction.atomic():
            # The instance lock first (its id read in a subquery: one round trip),
            # then the task with the people the answer shows (only the task row locked).
            instance = (
                WorkflowInstance.objects.select_for_update(of=("self",), no_key=True)
                .select_related("document")
                .filter(pk=Subquery(Task.objects.filter(pk=task_id).values("instance_id")[:1]))
                .first()
            )
            if instance is None:
                raise _Hidden
            rows = None
            if with_round:  # approve: the round too, for after_done (one query)
                task, rows = engine.lock_task_with_round(instance, task_id)
            else:
                task = (
                    Task.objects.select_for_update(of=("self",), no_key=True)
                    .select_related("sender", "on_behalf_of")
                    .get(pk=task_id)
                )
            task.instance = instance
            task.document = instance.document
            if not _may_act(task, actor, instance, allow_sender=allow_sender):
                raise _Hidden
            ctx = Ctx(actor=actor, now=timezone.now(), round_rows=rows)
            result = work(task, instance, ctx)
            ctx.flush()
            return result
    except _Hidden:
        raise _hidden(audit_action, actor, task_id) from None
    except _Denied as denied:
        record_denied(audit_action, actor=actor, object_type="workflow.task", object_id=task_id)
        raise Forbidden(denied.code) from None


def _may_act(task: Task, actor: User, instance: WorkflowInstance, *, allow_sender: bool) -> bool:
    if task.assignee_id == actor.pk:
        return True
    if allow_sender and actor.pk in (instance.step_sender_id, instance.started_by_id):
        return True
    if task.assignee_id is None or task.state not in engine.LIVE_STATES:
        return task.on_behalf_of_id == actor.pk and task.state not in engine.LIVE_STATES
    # The backup acting for an absent assignee takes the task over (B for A).
    if backup_acting(task, actor):
        task.on_behalf_of = task.on_behalf_of or task.assignee
        task.assignee = actor
        return True
    return False


def backup_acting(task: Task, user: User) -> bool:
    """``user`` is the backup acting now for the task's absent assignee (B for A):
    the one rule of who may act besides the assignee (also api/workflow/step_up.py)."""
    assignee = task.assignee
    if assignee is None:
        return False
    acting, behalf = routing.route(assignee)
    return behalf is not None and acting.pk == user.pk


def _require_open(task: Task) -> None:
    if task.state != TaskState.OPEN:
        raise Conflict("task_not_open", extra={"state": task.state})


def _audit(ctx: Ctx, action: str, task: Task, **detail: Any) -> None:
    ctx.event(
        action,
        actor=ctx.actor,
        on_behalf_of=task.on_behalf_of,
        obj=task.document,
        detail={
            "task_id": task.pk,
            "instance_id": task.instance_id,
            "step_order": task.step_order,
            "step_kind": task.step_kind,
            "opinion": task.opinion[:500],
            **detail,
        },
    )


def _on_document(
    audit_action: str,
    document_id: int,
    actor: User,
    work: Callable[[WorkflowInstance, Ctx], T],
) -> T:
    from api.documents.selectors import document_or_404

    document_or_404(actor, document_id)
    try:
        with transaction.atomic():
            instance = (
                WorkflowInstance.objects.select_for_update(of=("self",), no_key=True)
                .select_related("document", "document__unit")
                .filter(document_id=document_id)
                .order_by("-started_at", "-id")
                .first()
            )
            if instance is None or instance.state != InstanceState.RUNNING:
                raise Conflict("instance_not_running")
            ctx = Ctx(actor=actor, now=timezone.now())
            result = work(instance, ctx)
            ctx.flush()
            return result
    except _Denied as denied:
        record_denied(
            audit_action, actor=actor, object_type="documents.document", object_id=document_id
        )
        raise Forbidden(denied.code) from None


def _end_instance(
    instance: WorkflowInstance, ctx: Ctx, state: str, doc_status: str, **detail: Any
) -> None:
    from api.documents.actions import set_status

    instance.state = state
    instance.finished_at = ctx.now
    instance.step_sender = None
    instance.step_opener = None
    instance.save(update_fields=["state", "finished_at", "step_sender", "step_opener"])
    set_status(instance.document, doc_status)
    # Back with the drafter (or the sending unit): the document's clock pauses.
    from api.workflow import time_limits

    time_limits.pause(instance.document, ctx.now)
    ctx.event(
        f"workflow.{state}",
        actor=ctx.actor,
        obj=instance.document,
        detail={"instance_id": instance.pk, **detail},
    )
