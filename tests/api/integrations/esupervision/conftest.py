"""Fixtures of the e-supervision tests: events on a plain stretch of working days
(Monday 2 – Friday 13 March 2026, no holiday; the working clock runs 24 hours on each
working day, docs/workdays.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from api.workdays.deadlines import TZ

STAGES = ("accept", "handle", "review", "approve", "complete")


def march(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


def event(
    event_id: str,
    stage: str,
    at: datetime,
    *,
    item: str = "SP-1",
    unit_code: str = "C-OFF",
    limit: int = 5,
    service: str = "食品经营许可",
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "item_id": item,
        "service_name": service,
        "unit_code": unit_code,
        "stage": stage,
        "occurred_at": at.isoformat(),
        "limit_days": limit,
    }


@pytest.fixture
def send(db):
    """Apply events as the connector layer does: ``handle(source_id, payload)``."""
    from api.integrations.esupervision.actions import handle

    def _send(*events: dict[str, Any]) -> None:
        for payload in events:
            handle(payload["event_id"], payload)

    return _send
