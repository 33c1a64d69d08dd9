"""Fixtures of the urging tests (docs/urging.md): tasks built as rows with the
received/due times a test needs, and Shanghai moments.

``make_task(assignee, received, due, sender=..., drafter=...)`` → an open task on a
fresh office document; ``at("2026-11-23 09:00")`` → that moment in Asia/Shanghai.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.utils import timezone

from api.workdays import calendar
from api.workdays.deadlines import TZ

_counter = itertools.count(1)


def at(text: str) -> datetime:
    """'2026-11-23 09:00' in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture(autouse=True)
def fresh_calendar():
    # The calendar cache is per process; an override rolled back with a test's
    # database sends no signal, so start and end every test with empty tables.
    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture
def make_task(org, personas):
    from api.documents.models import Document
    from api.workflow.models import URGENCY_RANK, Task, WorkflowInstance, WorkflowTemplate

    template = WorkflowTemplate.objects.create(unit=org.office, name="t", direction="outgoing")

    def build(
        assignee=None,
        received: datetime | None = None,
        due: datetime | None = None,
        *,
        sender=None,
        drafter=None,
        state: str = "open",
        urgency: str = "normal",
        unit=None,
    ) -> Task:
        assignee = assignee or personas["leo"]
        sender = sender if sender is not None else personas["alice"]
        drafter = drafter or personas["bob"]
        received = received or timezone.now()
        document = Document.objects.create(
            direction="outgoing",
            title=f"关于第{next(_counter)}项工作的请示（测试）",
            doc_type="request",
            urgency=urgency,
            unit=unit or org.office,
            drafter=drafter,
            status="in_progress",
        )
        instance = WorkflowInstance.objects.create(
            document=document, template=template, started_by=drafter, steps=[]
        )
        return Task.objects.create(
            instance=instance,
            document=document,
            step_order=1,
            step_kind="review",
            step_name="核稿",
            assignee=assignee,
            sender=sender,
            state=state,
            received_at=received,
            due_at=due,
            urgency=urgency,
            urgency_rank=URGENCY_RANK[urgency],
        )

    return build
