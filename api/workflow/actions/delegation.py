"""Delegation moves: an absent person's live tasks go to their backup and back
(called by api/workflow/receivers.py).

Docs: docs/workflow.md#delegation-ab岗 and docs/delegation.md.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.accounts.models import User
from api.workflow import engine
from api.workflow.engine import Ctx
from api.workflow.models import (
    Task,
    TaskState,
    WorkflowInstance,
)


def delegate_open_tasks(absent: User, backup: User) -> list[int]:
    """An absence started: A's open and waiting tasks go to B, on behalf of A."""
    held_by_a = Q(assignee=absent, on_behalf_of__isnull=True)
    return _move_live_tasks(held_by_a, to=backup, on_behalf_of=absent, action="task.delegated")


def undelegate_open_tasks(returning: User) -> list[int]:
    """An absence ended or was cancelled: tasks still open at B for A go back to A;
    what B already did stays done (B 代 A in the trail)."""
    held_for_a = Q(on_behalf_of=returning) & ~Q(assignee=returning)
    return _move_live_tasks(held_for_a, to=returning, on_behalf_of=None, action="task.undelegated")


def _move_live_tasks(held: Q, *, to: User, on_behalf_of: User | None, action: str) -> list[int]:
    """Moves each open or waiting task matching ``held`` to ``to``, one transaction per
    task with its instance locked; the condition is checked again under the lock, so a
    task acted on meanwhile stays where it is. A moved open task notifies its new
    holder (Ctx.opened) and the move is audited as ``action``."""
    moved: list[int] = []
    ids = list(
        Task.objects.filter(held, state__in=engine.LIVE_STATES).values_list("instance_id", "id")
    )
    for instance_id, task_id in ids:
        with transaction.atomic():
            WorkflowInstance.objects.select_for_update(no_key=True).filter(pk=instance_id).first()
            task = (
                Task.objects.select_for_update(of=("self",), no_key=True)
                .select_related("document")
                .filter(held, pk=task_id, state__in=engine.LIVE_STATES)
                .first()
            )
            if task is None:
                continue
            from_user_id = task.assignee_id
            task.assignee = to
            task.on_behalf_of = on_behalf_of
            task.save(update_fields=["assignee", "on_behalf_of"])
            ctx = Ctx(actor=None, now=timezone.now())
            if task.state == TaskState.OPEN:
                ctx.opened.append(task.pk)
            ctx.event(
                action,
                actor_username="system",
                obj=task.document,
                detail={"task_id": task.pk, "from_user_id": from_user_id, "to_user_id": to.pk},
            )
            ctx.flush()
            moved.append(task.pk)
    return moved
