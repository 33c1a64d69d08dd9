"""Celery tasks of api.urging (docs/urging.md#automatic-urges).

``scan_deadlines`` runs from beat every GOVDESK_URGE_SCAN_SECONDS (300). Running it
twice, or in two workers at once, sends each urge once (row locks + unique
constraints in api.urging.actions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from django.utils.dateparse import parse_datetime


@shared_task(name="api.urging.tasks.scan_deadlines", ignore_result=True)
def scan_deadlines(now: str | None = None) -> dict[str, Any]:
    """``now``: an ISO 8601 moment (tests, replays); default the current time."""
    from api.urging import actions

    moment: datetime | None = parse_datetime(now) if now else None
    return actions.scan_deadlines(moment).as_dict()
