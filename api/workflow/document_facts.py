"""The workflow's answers to what the documents app asks of it (api/documents/hooks.py):
who holds a task on a document, which task a 批示 belongs to, who signed it off.

Docs: docs/architecture.md#layers. Installed by WorkflowConfig.ready(), so the
documents app (a lower layer) never imports the workflow.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from api.accounts.models import User
from api.common.errors import ApiError
from api.common.i18n import t
from api.documents import hooks
from api.workflow.models import StepKind, Task, TaskState
from api.workflow.selectors import has_task


def user_task(document: Any, user: User, task_id: int | None) -> Task | None:
    """The user's open or done task on the document: the one named, or the latest."""
    tasks = Task.objects.filter(
        Q(assignee=user) | Q(on_behalf_of=user),
        document=document,
        state__in=[TaskState.OPEN, TaskState.DONE],
    )
    if task_id is None:
        return tasks.order_by("-id").first()
    task = tasks.filter(pk=task_id).first()
    if task is None:
        raise ApiError(
            "validation_error",
            fields={
                "task_id": [
                    t(
                        "不是您在该公文上的待办或已办任务。",
                        "Not your open or done task on this document.",
                    )
                ]
            },
        )
    return task


def signer(document: Any) -> str:
    """The 签发人: the assignee of the document's last completed sign-off task."""
    signed = (
        Task.objects.filter(document=document, step_kind=StepKind.SIGN_OFF, state=TaskState.DONE)
        .exclude(assignee=None)
        .select_related("assignee")
        .order_by("-acted_at", "-id")
        .first()
    )
    return signed.assignee.display_name if signed and signed.assignee else ""


def install() -> None:
    hooks.workflow.has_task = has_task
    hooks.workflow.user_task = user_task
    hooks.workflow.signer = signer
