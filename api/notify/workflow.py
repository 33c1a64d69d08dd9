"""Notifications for the workflow: a new task tells its assignee.

Docs: docs/notifications.md#what-notifies. Called by api/workflow/engine.Ctx.flush
INSIDE the action's transaction (so a rolled-back action notifies nobody), before the
audit events are written (those take the chain-head lock and must come last).

It sits on the one-tap approve path, whose queries are budgeted
(tests/api/workflow/http/test_approve_query_budget.py): one query reads the opened
tasks together with whether each assignee was already told and has a device to push
to, one inserts the notifications, and the device query and the delivery insert
happen only when someone has a device. The workflow holds the instance's row lock,
so no concurrent action can notify the same task: ``notify_many(checked=True)``.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef

from api.notify.actions import Pending, notify_many, pushable_devices, urgency_of_document
from api.notify.models import Kind, Notification


def notify_tasks_opened(task_ids: list[int], now: datetime) -> None:
    from api.workflow.models import Task, TaskState

    told = Notification.objects.filter(
        recipient_id=OuterRef("assignee_id"), task_id=OuterRef("pk"), kind=Kind.TASK_OPENED
    )
    tasks = (
        Task.objects.filter(pk__in=set(task_ids), state=TaskState.OPEN, assignee__isnull=False)
        .select_related("assignee", "document", "on_behalf_of")
        .annotate(
            already_told=Exists(told),
            has_push=Exists(pushable_devices().filter(user_id=OuterRef("assignee_id"))),
        )
        .order_by("id")
    )
    items = []
    push_user_ids: set[int] = set()
    for task in tasks:
        if task.already_told or task.assignee is None:
            continue
        body = task.step_name
        if task.on_behalf_of is not None:
            body = f"{body}（代 {task.on_behalf_of.display_name} 办理）"
        if task.has_push:
            push_user_ids.add(task.assignee.pk)
        items.append(
            Pending(
                recipient=task.assignee,
                kind=Kind.TASK_OPENED,
                title=f"待办：{task.document.title}",
                body=body,
                task=task,
                document=task.document,
                urgency=urgency_of_document(task.urgency),
                dedup_key=f"task_opened:{task.pk}:{task.assignee_id}",
            )
        )
    if items:
        notify_many(items, now=now, checked=True, push_user_ids=push_user_ids)
