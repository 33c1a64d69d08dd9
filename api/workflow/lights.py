"""Deadline lights (红黄绿灯) of a task, as a pure function of the task and a moment.

Docs: docs/urging.md#lights. Time is the working clock of api/workdays (whole
working days count, weekends and holidays do not), so a task received before a
holiday week does not turn yellow during the holiday.

* ``none`` — the task is not open, or has no deadline (an automatic step).
* ``red`` — the deadline has passed: ``now > due_at`` (the same test as the list's
  ``overdue`` flag).
* ``yellow`` — at least ``GOVDESK_URGE_YELLOW_PERCENT`` (75 %) of the allowed time
  is used: ``used ÷ allowed ≥ 0.75`` where, with ``start = clock_start(received_at)``
  (the moment the deadline was counted from),
  ``allowed = working_seconds(start, due_at) − paused_seconds`` and
  ``used = working_seconds(start, now) − paused_seconds`` (a paused task's clock
  stands at ``paused_at``).
* ``green`` — otherwise.

No database access beyond the calendar's per-process year tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

NONE, GREEN, YELLOW, RED = "none", "green", "yellow", "red"
LIGHTS = (NONE, GREEN, YELLOW, RED)


def yellow_fraction() -> float:
    return float(settings.GOVDESK_URGE_YELLOW_PERCENT) / 100


def elapsed_fraction(task: Any, now: datetime) -> float | None:
    """Working time used ÷ allowed (1.0 at the deadline, above after it); None when
    the task has no deadline or was never received (a waiting turn)."""
    from api.workdays.deadlines import clock_start, working_seconds_between

    received, due = task.received_at, task.due_at
    if received is None or due is None:
        return None
    start = clock_start(received)
    clock_now = now if task.paused_at is None else min(now, task.paused_at)
    paused = int(task.paused_seconds or 0)
    allowed = working_seconds_between(start, due) - paused
    used = max(working_seconds_between(start, clock_now) - paused, 0)
    if allowed <= 0:
        return 1.0  # no working time was allowed at all: the whole limit is used
    if now > due:
        # Past the deadline the clock keeps counting (1.25 = a quarter of the limit late).
        return max(used / allowed, 1.0)
    return used / allowed


def deadline_light(task: Any, now: datetime) -> str:
    """``"none" | "green" | "yellow" | "red"`` of ``task`` at ``now`` (see the module)."""
    if task.state != "open" or task.due_at is None or task.received_at is None:
        return NONE
    if now > task.due_at:
        return RED
    fraction = elapsed_fraction(task, now)
    if fraction is not None and fraction >= yellow_fraction():
        return YELLOW
    return GREEN
