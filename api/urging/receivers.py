"""Urging's part when a document goes past its overall time limit (限时办结).

Docs: docs/urging.md#overdue-documents. The workflow sends ``documents_overdue`` once
per document (api/workflow/time_limits.py), inside the transaction that marked it; the
people holding its open tasks and its drafter are told, de-duplicated per person and
document, so a replay writes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from api.workflow.signals import documents_overdue


@receiver(documents_overdue, dispatch_uid="urging.documents_overdue")
def on_documents_overdue(
    sender: Any, document_ids: list[int], now: datetime, **kwargs: Any
) -> None:
    from api.accounts.models import User
    from api.common.i18n import t
    from api.documents.models import Document
    from api.notify.actions import Pending, notify_many
    from api.workflow.models import Task, TaskState

    items: list[Pending] = []
    for document in Document.objects.filter(pk__in=document_ids).select_related("drafter"):
        people: dict[int, tuple[User, Task | None]] = {}
        for task in (
            Task.objects.filter(document=document, state=TaskState.OPEN)
            .exclude(assignee=None)
            .select_related("assignee")
        ):
            if task.assignee is not None:
                people.setdefault(task.assignee.pk, (task.assignee, task))
        people.setdefault(document.drafter_id, (document.drafter, None))
        title = document.title
        body = t(
            f"「{title}」已超过办结时限，请尽快办理。",
            f"“{title}” is past its overall time limit.",
        )
        for person, held in people.values():
            items.append(
                Pending(
                    person,
                    "urge",
                    t(f"公文超期：{title}", f"Document overdue: {title}"),
                    body,
                    held,
                    document,
                    "high",
                    f"document_overdue:{document.pk}",
                )
            )
    if items:
        notify_many(items, now=now)
