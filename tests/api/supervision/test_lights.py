"""Traffic lights at their boundaries (docs/supervision.md#lights)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.supervision.lights import MilestoneClock, traffic_light
from api.workdays import working_seconds_between
from api.workdays.deadlines import TZ

T0 = datetime(2030, 1, 1, 0, 0, tzinfo=TZ)
DEADLINE = T0 + timedelta(hours=100)


def wall_clock(a: datetime, b: datetime) -> int:
    """Every second counts: keeps the boundary arithmetic obvious."""
    return max(0, int((b - a).total_seconds()))


def light(now, progress=0, milestones=(), start=T0, deadline=DEADLINE, clock=wall_clock):
    return traffic_light(
        now=now,
        start=start,
        deadline=deadline,
        progress=progress,
        milestones=list(milestones),
        working_seconds=clock,
    )


@pytest.mark.parametrize(
    ("hours", "progress", "expected"),
    [
        (74, 0, "green"),  # 74 % of the time used: below 75 %
        (75, 74, "yellow"),  # 75 % used, progress 74 % < 75 %
        (75, 75, "green"),  # progress keeps pace with time
        (90, 89, "yellow"),
        (100, 99, "yellow"),  # exactly at the deadline: not yet overdue
        (100, 100, "green"),
    ],
)
def test_time_used_against_progress(hours, progress, expected):
    assert light(T0 + timedelta(hours=hours), progress) == expected


def test_red_one_second_after_the_deadline_whatever_the_progress():
    assert light(DEADLINE + timedelta(seconds=1), 100) == "red"


def test_milestones():
    now = T0 + timedelta(hours=10)
    day = timedelta(seconds=86_400)
    pending = [MilestoneClock(now + day, None)]
    assert light(now, 50, pending) == "yellow"  # due in exactly one working day
    assert light(now, 50, [MilestoneClock(now + day + timedelta(seconds=1), None)]) == "green"
    assert light(now, 50, [MilestoneClock(now, None)]) == "yellow"  # due now: not yet late
    assert light(now, 50, [MilestoneClock(now - timedelta(seconds=1), None)]) == "red"
    done_late = [MilestoneClock(now - timedelta(hours=5), now - timedelta(hours=1))]
    assert light(now, 50, done_late) == "green"  # done milestones no longer count


@pytest.mark.django_db  # the calendar reads the override table
def test_time_is_measured_on_working_days():
    """2025 National Day: 1–8 October off. Start Tue 30 Sep 09:00, deadline Fri 10 Oct
    09:00 → working time 15 h (30 Sep) + 24 h (9 Oct) + 9 h (10 Oct) = 48 h."""
    start = datetime(2025, 9, 30, 9, tzinfo=TZ)
    deadline = datetime(2025, 10, 10, 9, tzinfo=TZ)
    args = {"start": start, "deadline": deadline, "clock": working_seconds_between}
    # Sat 4 Oct (holiday): 15 / 48 = 31 % used although 4 of 10 calendar days passed.
    assert light(datetime(2025, 10, 4, 12, tzinfo=TZ), 0, **args) == "green"
    # Thu 9 Oct 20:59: (15 + 20.98) / 48 < 75 %; 21:00: (15 + 21) / 48 = 75 % exactly.
    assert light(datetime(2025, 10, 9, 20, 59, tzinfo=TZ), 0, **args) == "green"
    assert light(datetime(2025, 10, 9, 21, tzinfo=TZ), 0, **args) == "yellow"
    assert light(datetime(2025, 10, 9, 21, tzinfo=TZ), 80, **args) == "green"
