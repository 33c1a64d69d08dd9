"""Deadline lights on the working clock (docs/urging.md#lights).

1 working day from Wed 30 Sep 2026 10:00 is due Thu 8 Oct 10:00 (1–7 Oct National
Day): 14 h on 30 Sep + 10 h on 8 Oct. 75 % = 18 h of working clock → yellow from
Thu 8 Oct 04:00; 74 % = 17 h 45 min 36 s → 8 Oct 03:45:36. Measured in wall-clock
time it would have turned yellow on 6 Oct, in the middle of the holiday.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import override_settings

from api.workdays import add_working_days
from api.workflow.lights import deadline_light, elapsed_fraction
from tests.api.urging.conftest import at, fresh_calendar  # noqa: F401  (autouse: empty calendar tables)

pytestmark = pytest.mark.django_db


def task(received, due, *, state="open", paused_at=None, paused_seconds=0):
    return SimpleNamespace(
        state=state,
        received_at=received,
        due_at=due,
        paused_at=paused_at,
        paused_seconds=paused_seconds,
    )


HOLIDAY = task(at("2026-09-30 10:00"), at("2026-10-08 10:00"))


def test_the_due_time_of_the_example_is_what_the_engine_computes():
    assert add_working_days(at("2026-09-30 10:00"), 1) == HOLIDAY.due_at


@pytest.mark.parametrize(
    ("moment", "light"),
    [
        ("2026-09-30 10:00", "green"),
        ("2026-09-30 23:59", "green"),  # 58 % used
        ("2026-10-06 12:00", "green"),  # holiday: wall-clock would say 79 %, working 58 %
        ("2026-10-07 23:59", "green"),
        ("2026-10-08 03:45:35", "green"),  # just under 74 %
        ("2026-10-08 03:45:36", "green"),  # 74 %
        ("2026-10-08 04:00", "yellow"),  # 75 %
        ("2026-10-08 10:00", "yellow"),  # at the deadline: 100 %, not yet past it
        ("2026-10-08 10:00:01", "red"),
        ("2026-10-09 10:00", "red"),
    ],
)
def test_lights_across_a_holiday(moment, light):
    assert deadline_light(HOLIDAY, at(moment)) == light


def test_fractions_at_74_75_and_100_percent():
    assert elapsed_fraction(HOLIDAY, at("2026-10-08 03:45:36")) == pytest.approx(0.74)
    assert elapsed_fraction(HOLIDAY, at("2026-10-08 04:00")) == pytest.approx(0.75)
    assert elapsed_fraction(HOLIDAY, at("2026-10-08 10:00")) == pytest.approx(1.0)
    # Half a working day late.
    assert elapsed_fraction(HOLIDAY, at("2026-10-08 22:00")) == pytest.approx(1.5)


def test_a_weekend_in_between_does_not_count():
    # Fri 20 Nov 16:00 + 1 day → Mon 23 Nov 16:00; 8 h Friday, so 75 % = Mon 10:00.
    weekend = task(at("2026-11-20 16:00"), add_working_days(at("2026-11-20 16:00"), 1))
    assert weekend.due_at == at("2026-11-23 16:00")
    assert deadline_light(weekend, at("2026-11-22 20:00")) == "green"
    assert deadline_light(weekend, at("2026-11-23 09:59")) == "green"
    assert deadline_light(weekend, at("2026-11-23 10:00")) == "yellow"
    assert deadline_light(weekend, at("2026-11-23 16:00:01")) == "red"


def test_the_clock_counts_from_09_00_like_the_deadline():
    # Received Mon 07:30: the deadline counts from 09:00, so does the light.
    early = task(at("2026-11-23 07:30"), at("2026-11-24 09:00"))
    assert elapsed_fraction(early, at("2026-11-23 08:30")) == 0
    assert deadline_light(early, at("2026-11-24 03:00")) == "yellow"  # 18 h from 09:00
    assert deadline_light(early, at("2026-11-24 02:59")) == "green"


def test_paused_time_is_not_counted():
    # A 1-day limit from Mon 9 Nov 10:00 pushed back by 6 h of pause: due Tue 16:00.
    paused = task(at("2026-11-09 10:00"), at("2026-11-10 16:00"), paused_seconds=6 * 3600)
    assert deadline_light(paused, at("2026-11-10 09:59")) == "green"
    assert deadline_light(paused, at("2026-11-10 10:00")) == "yellow"  # 18 h of 24 used
    # While paused the clock stands still at paused_at.
    standing = task(
        at("2026-11-09 10:00"), at("2026-11-10 10:00"), paused_at=at("2026-11-09 12:00")
    )
    assert deadline_light(standing, at("2026-11-10 09:00")) == "green"


@pytest.mark.parametrize("state", ["done", "waiting", "returned", "transferred", "cancelled"])
def test_only_open_tasks_have_a_light(state):
    assert (
        deadline_light(
            task(HOLIDAY.received_at, HOLIDAY.due_at, state=state), at("2026-10-09 10:00")
        )
        == "none"
    )


def test_no_deadline_no_light():
    assert deadline_light(task(at("2026-10-08 10:00"), None), at("2026-10-09 10:00")) == "none"
    assert deadline_light(task(None, None), at("2026-10-09 10:00")) == "none"


@override_settings(GOVDESK_URGE_YELLOW_PERCENT=50)
def test_the_yellow_share_is_configurable():
    assert deadline_light(HOLIDAY, at("2026-09-30 22:00")) == "yellow"  # 12 h of 24
    assert deadline_light(HOLIDAY, at("2026-09-30 21:59")) == "green"


def test_zero_allowed_time_is_yellow_until_due():
    instant = task(at("2026-11-23 10:00"), at("2026-11-23 10:00"))
    assert deadline_light(instant, at("2026-11-23 10:00")) == "yellow"
    assert deadline_light(instant, at("2026-11-23 10:00") + timedelta(seconds=1)) == "red"
