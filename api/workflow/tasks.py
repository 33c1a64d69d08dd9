"""Beat task of the workflow: mark documents past their overall due time overdue.

Docs: docs/workflow.md#document-time-limits. Safe to run twice and in two workers at
once: each document is marked with a compare-and-set (api/workflow/time_limits.py).
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils.dateparse import parse_datetime


@shared_task(name="api.workflow.tasks.mark_overdue_documents", ignore_result=True)
def mark_overdue_documents(now: str | None = None) -> int:
    """``now``: an ISO 8601 moment (tests, replays); default the current time."""
    from api.workflow.time_limits import mark_overdue

    moment: datetime | None = parse_datetime(now) if now else None
    return mark_overdue(moment)
