"""What the notifications do when the workflow tells them something
(api/workflow/signals.py). Docs: docs/notifications.md.

Connected in NotifyConfig.ready(); the workflow (a lower layer) never imports notify.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from api.notify.actions import mark_task_read
from api.notify.workflow import notify_tasks_opened
from api.workflow.signals import task_read, tasks_opening


@receiver(tasks_opening, dispatch_uid="notify.tasks_opening")
def on_tasks_opening(sender: Any, task_ids: list[int], now: datetime, **kwargs: Any) -> None:
    """New to-dos: notify their assignees, in the opening action's transaction."""
    notify_tasks_opened(task_ids, now)


@receiver(task_read, dispatch_uid="notify.task_read")
def on_task_read(sender: Any, user: Any, task_id: int, now: datetime, **kwargs: Any) -> None:
    """The assignee opened the task: its notifications are read (stops their ladder)."""
    mark_task_read(user, task_id, now)
