"""Deadlines in working time: a holiday week, a make-up Saturday, Spring Festival,
half days, pauses, the deadline table, and properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from api.workdays.calendar import is_working_day
from api.workdays.deadlines import (
    TZ,
    add_working_days,
    add_working_seconds,
    clock_start,
    deadline_days,
    resume_after_pause,
    working_seconds_between,
)
from tests.api.workdays.conftest import at

pytestmark = pytest.mark.django_db


class TestHolidayWeek:
    def test_received_before_national_day_is_due_after_the_golden_week(self):
        # Wed 30 Sep 2026, 16:00; 1 Oct – 7 Oct are off: due Thu 8 Oct, 16:00.
        assert add_working_days(at("2026-09-30 16:00"), 1) == at("2026-10-08 16:00")

    def test_friday_before_a_holiday_week_same_clock_time(self):
        # Fri 30 Jan 2026 is ordinary; Fri 13 Feb 2026 16:00 is the Friday before the
        # Spring Festival break (15–23 Feb) — its next working day is the make-up
        # Saturday 14 Feb.
        assert add_working_days(at("2026-02-13 16:00"), 1) == at("2026-02-14 16:00")

    def test_spring_festival_2026(self):
        # From the make-up Saturday 14 Feb the next working day is Tue 24 Feb.
        assert add_working_days(at("2026-02-14 16:00"), 1) == at("2026-02-24 16:00")
        assert add_working_days(at("2026-02-13 16:00"), 2) == at("2026-02-24 16:00")

    def test_make_up_saturday_counts_as_a_working_day(self):
        # Fri 9 Oct 2026 + 1 day: Saturday 10 Oct is a 调休 working day.
        assert add_working_days(at("2026-10-09 10:00"), 1) == at("2026-10-10 10:00")
        # Received on the make-up Saturday itself: the clock runs at once.
        assert add_working_days(at("2026-10-10 11:00"), 1) == at("2026-10-12 11:00")

    def test_countersign_three_days_across_the_holiday(self):
        assert add_working_days(at("2026-09-29 10:00"), 3) == at("2026-10-09 10:00")

    def test_received_during_the_holiday_starts_at_nine_on_the_next_working_day(self):
        assert clock_start(at("2026-10-03 15:00")) == at("2026-10-08 09:00")
        assert add_working_days(at("2026-10-03 15:00"), 1) == at("2026-10-09 09:00")

    def test_received_early_on_a_working_day_starts_at_nine(self):
        assert add_working_days(at("2026-10-12 07:30"), 1) == at("2026-10-13 09:00")
        # ...so Monday 07:30 is never due before Sunday evening's receipt.
        assert add_working_days(at("2026-10-11 23:00"), 1) == at("2026-10-13 09:00")

    def test_other_time_zones_are_converted_and_the_answer_is_local(self):
        due = add_working_days(datetime(2026, 9, 30, 8, 0, tzinfo=UTC), 1)
        assert due == at("2026-10-08 16:00")
        assert due.utcoffset() == timedelta(hours=8)


class TestFractions:
    def test_half_a_day_is_twelve_working_clock_hours(self):
        assert add_working_days(at("2026-09-30 10:00"), 0.5) == at("2026-09-30 22:00")
        assert add_working_days(at("2026-09-30 16:00"), 0.5) == at("2026-10-08 04:00")

    def test_a_deadline_at_the_end_of_a_working_day_moves_to_the_next_one(self):
        # 12 hours from noon ends at midnight of 30 Sep: the next working day begins.
        assert add_working_days(at("2026-09-30 12:00"), 0.5) == at("2026-10-08 00:00")

    def test_zero_days_is_the_clock_start(self):
        assert add_working_days(at("2026-10-03 15:00"), 0) == at("2026-10-08 09:00")

    @pytest.mark.parametrize("days", [-1, float("nan"), float("inf"), 400])
    def test_invalid_days_are_refused(self, days):
        with pytest.raises(ValueError):
            add_working_days(at("2026-09-30 10:00"), days)


class TestWorkingSeconds:
    def test_across_the_golden_week_only_working_days_count(self):
        assert working_seconds_between(at("2026-09-30 16:00"), at("2026-10-08 16:00")) == 86_400

    def test_make_up_saturday_counts(self):
        # Fri 9 Oct 12:00 → Mon 12 Oct 12:00: Fri 12h + Sat 24h (make-up) + Mon 12h.
        assert working_seconds_between(at("2026-10-09 12:00"), at("2026-10-12 12:00")) == 172_800
        # An ordinary weekend a week later counts nothing.
        assert working_seconds_between(at("2026-10-16 12:00"), at("2026-10-19 12:00")) == 86_400

    def test_reversed_or_empty_range_is_zero(self):
        assert working_seconds_between(at("2026-10-09 12:00"), at("2026-10-09 12:00")) == 0
        assert working_seconds_between(at("2026-10-09 12:00"), at("2026-10-08 12:00")) == 0

    def test_add_working_seconds_from_a_holiday_starts_at_midnight_of_the_next_day(self):
        assert add_working_seconds(at("2026-10-03 15:00"), 3600) == at("2026-10-08 01:00")

    def test_pause_pushes_the_due_time_back_by_the_working_time_paused(self):
        # Returned at noon before the holiday, back at noon after it: 24 working hours.
        due, paused = resume_after_pause(
            at("2026-10-08 16:00"), at("2026-09-30 12:00"), at("2026-10-08 12:00")
        )
        assert paused == 86_400
        assert due == at("2026-10-09 16:00")


class TestDeadlineTable:
    @pytest.mark.parametrize(
        ("kind", "urgency", "countersigners", "days"),
        [
            ("review", "normal", 0, 1),
            ("sign_off", "urgent", 0, 0.5),
            ("sign_off", "very_urgent", 0, 0.25),
            ("countersign", "normal", 1, 1),
            ("countersign", "normal", 2, 3),
            ("countersign", "urgent", 3, 1.5),
            ("countersign", "very_urgent", 2, 0.75),
        ],
    )
    def test_defaults(self, kind, urgency, countersigners, days):
        assert deadline_days(kind, urgency, countersigners) == days

    def test_settings_change_the_table(self, settings):
        settings.GOVDESK_DEADLINE_ORDINARY_DAYS = 2
        settings.GOVDESK_DEADLINE_COUNTERSIGN_DAYS = 5
        settings.GOVDESK_DEADLINE_URGENT_PERCENT = 40
        assert deadline_days("review", "normal") == 2
        assert deadline_days("countersign", "urgent", 2) == 2

    def test_unknown_urgency_is_refused(self):
        with pytest.raises(ValueError):
            deadline_days("review", "whenever")


# --- properties ---------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 20), timezones=st.just(TZ)
)
day_counts = st.integers(min_value=0, max_value=40).map(lambda quarters: quarters / 4)
PROPS = hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPS
@given(start=moments, days=day_counts)
def test_the_due_time_is_on_a_working_day_and_uses_exactly_that_much_working_time(start, days):
    due = add_working_days(start, days)
    assert is_working_day(due.date())
    assert due >= start
    assert working_seconds_between(clock_start(start), due) == round(days * 86_400)


@PROPS
@given(start=moments, days=st.integers(min_value=1, max_value=10))
def test_whole_days_keep_the_clock_time_of_the_start(start, days):
    due = add_working_days(start, days)
    assert due.timetz() == clock_start(start).timetz()


@PROPS
@given(a=moments, b=moments, days=day_counts)
def test_monotonic_in_the_start(a, b, days):
    first, second = sorted([a, b])
    assert add_working_days(first, days) <= add_working_days(second, days)


@PROPS
@given(start=moments, d1=day_counts, d2=day_counts)
def test_monotonic_in_the_number_of_days(start, d1, d2):
    low, high = sorted([d1, d2])
    assert add_working_days(start, low) <= add_working_days(start, high)
