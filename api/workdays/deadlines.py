"""Deadlines in working time (docs/workdays.md#working-time-model).

All arithmetic is in Asia/Shanghai local time on the calendar of
``api.workdays.calendar``. The model, kept simple so that a person can predict it:

* **The working clock** runs for the whole of every working day (00:00–24:00) and
  stands still on non-working days. ``working_seconds_between(a, b)`` measures it
  (time spent in a step, paused time while a document is returned).
* **The clock starts** when a task is received, but never before 09:00: received on
  a non-working day it starts at 09:00 of the next working day, received before
  09:00 on a working day at 09:00 that day (``clock_start``). This keeps deadlines
  monotonic: something received on Monday at 08:00 is never due before something
  received on Sunday.
* **N whole working days** from a start are due at the same clock time on the Nth
  next working day: received Friday 16:00 before the National Day week with 1 day,
  due 16:00 on the first working day after it.
* **A fraction of a day** (urgent documents) adds that share of 24 working-clock
  hours after the whole days: 0.5 day from 10:00 is 22:00 the same day; from 16:00
  it is 04:00 of the next working day. A deadline that would fall exactly at the
  end of a working day is the start (00:00) of the next working day, so every due
  time lies on a working day.
* ``deadline_days(kind, urgency, countersigners)`` is the time limit: ordinary
  ``GOVDESK_DEADLINE_ORDINARY_DAYS`` (1), a countersign step with two or more
  countersigners ``GOVDESK_DEADLINE_COUNTERSIGN_DAYS`` (3), scaled for urgency by
  ``GOVDESK_DEADLINE_URGENT_PERCENT`` (50) and ``GOVDESK_DEADLINE_VERY_URGENT_PERCENT``
  (25).
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from api.workdays.calendar import day_info, next_working_day

TZ = ZoneInfo("Asia/Shanghai")
DAY_SECONDS = 86_400
CLOCK_START = time(9, 0)
URGENCIES = ("normal", "urgent", "very_urgent")
# Longest span add_working_days accepts (a deadline, not a schedule).
MAX_DAYS = 366


def local(moment: datetime) -> datetime:
    """``moment`` in Asia/Shanghai; a naive value is taken to be Shanghai time."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=TZ)
    return moment.astimezone(TZ)


def _midnight(day) -> datetime:
    return datetime.combine(day, time(0, 0), TZ)


def clock_start(received: datetime) -> datetime:
    """When the working clock starts for something received at ``received``: then,
    on a working day from 09:00; 09:00 that day when earlier; else 09:00 of the next
    working day."""
    moment = local(received)
    if day_info(moment.date()).working:
        return max(moment, datetime.combine(moment.date(), CLOCK_START, TZ))
    return datetime.combine(next_working_day(moment.date()), CLOCK_START, TZ)


def add_working_seconds(start: datetime, seconds: int) -> datetime:
    """``start`` moved forward by ``seconds`` of the working clock (non-working days
    skipped). Used to extend a due time by the time a task spent paused."""
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    current = local(start)
    remaining = timedelta(seconds=int(seconds))
    if not remaining:
        return current
    if not day_info(current.date()).working:
        current = _midnight(next_working_day(current.date()))
    while True:
        left = _midnight(current.date() + timedelta(days=1)) - current
        if remaining < left:
            return current + remaining
        remaining -= left
        current = _midnight(next_working_day(current.date()))


def add_working_days(start: datetime, days: float) -> datetime:
    """The due time of something received at ``start`` with a limit of ``days``
    working days (fractions allowed). See the module docstring for the model."""
    if not isinstance(days, int | float) or not math.isfinite(days):
        raise ValueError("days must be a finite number")
    if days < 0 or days > MAX_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_DAYS}")
    # A working day is 24 hours of the working clock, and the clock starts at 09:00 or
    # later, so N whole days land at the same clock time on the Nth next working day.
    return add_working_seconds(clock_start(start), round(days * DAY_SECONDS))


def working_seconds_between(a: datetime, b: datetime) -> int:
    """Seconds of the working clock from ``a`` to ``b`` (0 when ``b`` is not later):
    the part of [a, b) that lies on working days, in Shanghai local time."""
    start, end = local(a), local(b)
    if end <= start:
        return 0
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        if day_info(day).working:
            lo = max(start, _midnight(day))
            hi = min(end, _midnight(day + timedelta(days=1)))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total // timedelta(seconds=1)


def resume_after_pause(due_at: datetime, paused_at: datetime, resumed_at: datetime):
    """Pause accounting for a returned task (退回): the working time it spent paused
    and its due time pushed back by exactly that much. Returns
    ``(new_due_at, paused_seconds)``; the engine adds ``paused_seconds`` to
    ``Task.paused_seconds``."""
    paused = working_seconds_between(paused_at, resumed_at)
    return add_working_seconds(due_at, paused), paused


def deadline_days(kind: str, urgency: str, countersigners: int = 0) -> float:
    """The time limit of a step in working days (docs/workdays.md#deadline-table).

    ``kind`` is the step kind; a ``countersign`` step with two or more countersigners
    gets the countersign limit, every other step the ordinary one. ``urgency`` is the
    document's: ``normal``, ``urgent`` or ``very_urgent``."""
    if kind == "countersign" and countersigners >= 2:
        base = settings.GOVDESK_DEADLINE_COUNTERSIGN_DAYS
    else:
        base = settings.GOVDESK_DEADLINE_ORDINARY_DAYS
    return scaled_days(base, urgency)


def scaled_days(base: float, urgency: str) -> float:
    """``base`` working days scaled for ``urgency`` (normal 100 %, urgent
    GOVDESK_DEADLINE_URGENT_PERCENT, very urgent GOVDESK_DEADLINE_VERY_URGENT_PERCENT).
    Shared by the step limits above and the document limits of api/workflow."""
    if urgency not in URGENCIES:
        raise ValueError(f"unknown urgency {urgency!r}")
    percent = {
        "normal": 100,
        "urgent": settings.GOVDESK_DEADLINE_URGENT_PERCENT,
        "very_urgent": settings.GOVDESK_DEADLINE_VERY_URGENT_PERCENT,
    }[urgency]
    return float(base) * percent / 100
