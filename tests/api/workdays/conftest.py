"""Calendar tests share the process-wide calendar cache: clear it around each test
(an override rolled back with the test database sends no signal)."""

from __future__ import annotations

from datetime import datetime

import pytest

from api.workdays import calendar
from api.workdays.deadlines import TZ


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.invalidate()
    yield
    calendar.invalidate()


def at(text: str) -> datetime:
    """'2026-09-30 16:00' in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)
