"""Document time limits (限时办结): the document's overall limit and the step deadlines
derived from what is left of it.

Docs: docs/workflow.md#document-time-limits. The working clock is api/workdays'
(``add_working_days``, ``working_seconds_between``, pauses as ``resume_after_pause``).

* **The limit** of a document: GOVDESK_DEADLINE_ORDINARY_DAYS (1 working day), or
  GOVDESK_DEADLINE_COUNTERSIGN_DAYS (3) when it needs several leaders' countersign (a
  countersign step with two or more people); a unit may set its own per document type
  (``UnitTimeLimit``); urgency scales it as it scales a step's limit.
* **The clock** starts at the first submission; a return to the drafter (or to the
  sending unit) and a withdrawal pause it; the next submission resumes it with what was
  left: ``due_at = add_working_days(started, days)`` pushed back by every paused working
  second. The flow's completion stops it (``limit_done_at``).
* **Steps** are never due after the document: each task's due time is its step's own
  limit capped at the document's due time; the turns of a sequential countersign share
  what is left of the step evenly among the turns still to come.
* **Overdue** once: ``mark_overdue`` sets ``overdue_at`` with a compare-and-set and
  writes ``document.overdue`` and the ``documents_overdue`` signal (a running document
  only) when it won, so the periodic task (and the completion of a late document) may
  run any number of times.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from api.common.datetimes import client_datetime
from api.workflow.models import AssigneeKind, StepKind, Task, TaskState, UnitTimeLimit
from api.workflow.signals import documents_overdue

logger = logging.getLogger(__name__)

CLOCK_FIELDS = (
    "time_limit_days",
    "limit_started_at",
    "due_at",
    "limit_paused_at",
    "limit_paused_seconds",
    "limit_done_at",
    "overdue_at",
)


# --- the limit ----------------------------------------------------------------------------


def needs_countersign(steps: list[dict], participants: dict[str, Any]) -> bool:
    """Several leaders countersign: a countersign step with two or more people."""
    for step in steps:
        if step["kind"] != StepKind.COUNTERSIGN:
            continue
        if step["assignee_kind"] == AssigneeKind.DRAFTER_CHOICE:
            people = len(participants.get(step.get("choice_key") or "", []) or [])
        else:
            people = 1
        if people >= 2:
            return True
    return False


def unit_limits(unit: Any, doc_type: str) -> tuple[float, float]:
    """(ordinary, countersign) base days for a document of ``unit`` and ``doc_type``:
    the nearest unit's row (its type's row before its every-type row), else settings."""
    from django.conf import settings

    path = unit.path or ""
    ancestors = [int(part) for part in path.split(".") if part]
    rows = list(
        UnitTimeLimit.objects.filter(unit_id__in=ancestors or [unit.pk]).filter(
            Q(doc_type="") | Q(doc_type=doc_type)
        )
    )
    depth = {uid: i for i, uid in enumerate(ancestors or [unit.pk])}
    rows.sort(key=lambda r: (depth.get(r.unit_id, -1), r.doc_type != ""), reverse=True)
    if rows:
        return float(rows[0].ordinary_days), float(rows[0].countersign_days)
    return (
        float(settings.GOVDESK_DEADLINE_ORDINARY_DAYS),
        float(settings.GOVDESK_DEADLINE_COUNTERSIGN_DAYS),
    )


def limit_days(document: Any, steps: list[dict], participants: dict[str, Any]) -> float:
    """The document's overall time limit in working days."""
    from api.workdays.deadlines import scaled_days

    ordinary, countersign = unit_limits(document.unit, document.doc_type)
    base = countersign if needs_countersign(steps, participants) else ordinary
    return scaled_days(base, document.urgency)


# --- the clock ----------------------------------------------------------------------------


def _save(document: Any, fields: list[str]) -> None:
    """The clock's columns only: no new document version (no content changed)."""
    from api.documents.models import Document

    Document.objects.filter(pk=document.pk).update(**{f: getattr(document, f) for f in fields})


def start_or_resume(
    document: Any, steps: list[dict], participants: dict[str, Any], now: datetime
) -> None:
    """At submission (the document row locked by the caller): start the clock, or resume
    it after a return/withdrawal. The limit is read again (type, urgency or countersign
    may have changed while it was back with the drafter); what was spent stays spent."""
    from api.workdays.deadlines import add_working_days, add_working_seconds

    days = limit_days(document, steps, participants)
    if document.limit_started_at is None:
        document.limit_started_at = now
        document.limit_paused_seconds = 0
    elif document.limit_paused_at is not None:
        document.limit_paused_seconds += _paused_seconds(document.limit_paused_at, now)
    document.limit_paused_at = None
    document.limit_done_at = None
    document.time_limit_days = round(days, 2)
    document.due_at = add_working_seconds(
        add_working_days(document.limit_started_at, days), document.limit_paused_seconds
    )
    _save(document, list(CLOCK_FIELDS))


def _paused_seconds(since: datetime, now: datetime) -> int:
    from api.workdays.deadlines import working_seconds_between

    return int(working_seconds_between(since, now))


def pause(document: Any, now: datetime) -> None:
    """The document went back to its drafter (or the sending unit), or was withdrawn."""
    if document.limit_started_at is None or document.limit_paused_at is not None:
        return
    document.limit_paused_at = now
    _save(document, ["limit_paused_at"])


def finish(document: Any, now: datetime, actor: Any = None) -> None:
    """The flow completed: the clock stops; completed after its due time, the document
    is overdue (once, as ``mark_overdue``)."""
    if document.limit_started_at is None:
        return
    document.limit_done_at = now
    _save(document, ["limit_done_at"])
    if document.due_at is not None and now > document.due_at and document.overdue_at is None:
        _mark(document.pk, now)
        document.overdue_at = now


def late_seconds(document: Any, now: datetime | None = None) -> int | None:
    """Working seconds past the due time: when done, at completion; while running,
    until ``now``; paused, until the pause. None when it has no limit; 0 on time."""
    from api.workdays.deadlines import working_seconds_between

    if document.due_at is None:
        return None
    end = document.limit_done_at or document.limit_paused_at or now or timezone.now()
    return int(working_seconds_between(document.due_at, end))


# --- step deadlines -----------------------------------------------------------------------


def cap(due: datetime, document: Any) -> datetime:
    """A step is never due after its document."""
    doc_due = getattr(document, "due_at", None)
    return min(due, doc_due) if doc_due is not None else due


def turn_due(step_end: datetime, turns_left: int, now: datetime) -> datetime:
    """A sequential countersign turn: an even share of what is left of the step
    (``step_end``, already capped by the document) among the turns still to come."""
    from api.workdays.deadlines import (
        add_working_seconds,
        clock_start,
        working_seconds_between,
    )

    start = clock_start(now)
    left = int(working_seconds_between(start, step_end))
    if left <= 0:
        return step_end
    return min(add_working_seconds(start, left // max(turns_left, 1)), step_end)


# --- overdue --------------------------------------------------------------------------------


def _mark(document_id: int, now: datetime) -> bool:
    """Compare-and-set ``overdue_at``; the audit event and the signal only for the winner."""
    from api.audit.recorder import record
    from api.documents.models import Document

    with transaction.atomic():
        won = Document.objects.filter(pk=document_id, overdue_at__isnull=True).update(
            overdue_at=now
        )
        if won != 1:
            return False
        document = Document.objects.get(pk=document_id)
        late_tasks = list(
            Task.objects.filter(document_id=document_id, due_at__lt=now)
            .filter(Q(state=TaskState.OPEN) | Q(acted_at__gt=F("due_at")))
            .values_list("pk", flat=True)
        )
        if document.limit_done_at is None:  # completed late: nobody left to urge
            documents_overdue.send(sender=Document, document_ids=[document_id], now=now)
        record(
            "document.overdue",
            actor=None,
            obj=document,
            detail={
                "due_at": client_datetime(document.due_at),
                "time_limit_days": float(document.time_limit_days or 0),
                "late_task_ids": late_tasks,
            },
        )
    return True


def overdue_candidates(now: datetime):
    """Running documents past their due time, not yet marked (index document_due_idx)."""
    from api.documents.models import Document

    return Document.objects.filter(
        due_at__lt=now,
        overdue_at__isnull=True,
        limit_done_at__isnull=True,
        limit_paused_at__isnull=True,
        status="in_progress",
    ).order_by("due_at", "id")


def mark_overdue(now: datetime | None = None) -> int:
    """Mark every running document past its due time overdue, once each (safe to run
    twice, and concurrently). Returns how many this run marked."""
    now = now or timezone.now()
    marked = 0
    for document_id in list(overdue_candidates(now).values_list("pk", flat=True)[:1000]):
        try:
            if _mark(document_id, now):
                marked += 1
        except Exception:
            logger.exception("marking document %s overdue failed", document_id)
    return marked
