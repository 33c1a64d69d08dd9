"""Traffic lights of a supervised item (红黄绿灯), as a pure function.

Docs: docs/supervision.md#lights. Time is measured on the working clock of
api/workdays (working days count, weekends and holidays do not), so a deadline after
a holiday week does not turn yellow during the holiday.

* **red** — the deadline has passed (``now > deadline``), or a milestone that is not
  done has passed its due time.
* **yellow** — time used ≥ 75 % and the reported progress is below the time used
  (progress < time used × 100), or a milestone that is not done falls due within one
  working day (≤ 86 400 working seconds from now).
* **green** — otherwise.

"Time used" = working seconds from the item's creation to now ÷ working seconds from
its creation to the deadline (1 when that span has no working time and now is at or
after the deadline, else 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

YELLOW_TIME_USED = 0.75
ONE_WORKING_DAY = 86_400


@dataclass(frozen=True)
class MilestoneClock:
    due: datetime
    done_at: datetime | None


def time_used(
    now: datetime,
    start: datetime,
    deadline: datetime,
    working_seconds: Callable[[datetime, datetime], int],
) -> float:
    total = working_seconds(start, deadline)
    if total <= 0:
        return 1.0 if now >= deadline else 0.0
    return min(working_seconds(start, now) / total, 1.0)


def traffic_light(
    *,
    now: datetime,
    start: datetime,
    deadline: datetime,
    progress: int,
    milestones: Iterable[MilestoneClock],
    working_seconds: Callable[[datetime, datetime], int],
) -> str:
    """``"green"``, ``"yellow"`` or ``"red"``; ``working_seconds(a, b)`` measures the
    working time in ``[a, b)`` (api.workdays.working_seconds_between in production)."""
    pending = [m for m in milestones if m.done_at is None]
    if now > deadline or any(now > m.due for m in pending):
        return "red"
    used = time_used(now, start, deadline, working_seconds)
    if used >= YELLOW_TIME_USED and progress < used * 100:
        return "yellow"
    if any(working_seconds(now, m.due) <= ONE_WORKING_DAY for m in pending):
        return "yellow"
    return "green"
