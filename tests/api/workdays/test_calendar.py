"""The calendar: the official data (holidays package) checked against the State
Council notices, the weekly rule, and the override table winning over both."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.workdays import calendar
from api.workdays.calendar import day_info, is_working_day, next_working_day
from api.workdays.models import CalendarOverride

# Typed from the State Council notices (国务院办公厅关于2025年/2026年部分节假日安排的通知,
# 国办发明电〔2024〕12号 and 国办发明电〔2025〕7号): make-up working days (调休上班)...
MAKEUP_DAYS = {
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}
# ...and the days off (放假), weekends inside a holiday block included.
DAYS_OFF = {
    2025: [
        ("2025-01-01", "2025-01-01"),
        ("2025-01-28", "2025-02-04"),
        ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"),
        ("2025-05-31", "2025-06-02"),
        ("2025-10-01", "2025-10-08"),
    ],
    2026: [
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ],
}


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _expected_non_working(year: int) -> set[date]:
    off = {d for first, last in DAYS_OFF[year] for d in _days(first, last)}
    makeup = {date.fromisoformat(d) for d in MAKEUP_DAYS[year]}
    weekends = {d for d in _days(f"{year}-01-01", f"{year}-12-31") if d.weekday() >= 5}
    return (off | weekends) - makeup


@pytest.mark.django_db
@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_published_years_matches_the_notice(year):
    expected = _expected_non_working(year)
    wrong = [
        d.isoformat()
        for d in _days(f"{year}-01-01", f"{year}-12-31")
        if is_working_day(d) == (d in expected)
    ]
    assert wrong == []


@pytest.mark.django_db
def test_makeup_saturday_is_a_working_day_from_the_package():
    info = day_info(date(2026, 10, 10))
    assert (info.working, info.kind, info.source) == (True, "makeup", "official")
    assert day_info(date(2026, 10, 17)).kind == "weekend"


@pytest.mark.django_db
def test_holiday_carries_its_chinese_name():
    info = day_info(date(2026, 2, 17))
    assert (info.working, info.kind, info.name) == (False, "holiday", "春节")


@pytest.mark.django_db
def test_override_wins_over_the_package_both_ways():
    CalendarOverride.objects.create(date=date(2026, 10, 10), kind="holiday", name="本地调整")
    CalendarOverride.objects.create(date=date(2026, 10, 5), kind="workday", name="本地上班")
    assert day_info(date(2026, 10, 10)).working is False
    assert day_info(date(2026, 10, 10)).source == "override"
    assert day_info(date(2026, 10, 5)).working is True
    assert day_info(date(2026, 10, 5)).kind == "workday"


@pytest.mark.django_db
def test_override_for_an_unpublished_year_and_a_weekend():
    # 2027's notice is not in the package: the admin enters a make-up Saturday.
    saturday = date(2027, 2, 20)
    assert is_working_day(saturday) is False
    CalendarOverride.objects.create(date=saturday, kind="workday", name="春节调休上班")
    info = day_info(saturday)
    assert (info.working, info.kind, info.name) == (True, "makeup", "春节调休上班")


@pytest.mark.django_db
def test_cache_is_invalidated_by_save_and_delete(django_assert_num_queries):
    day = date(2026, 3, 3)
    assert is_working_day(day)  # loads and caches 2026
    with django_assert_num_queries(0):
        assert is_working_day(date(2026, 3, 4))
    override = CalendarOverride.objects.create(date=day, kind="holiday")
    assert not is_working_day(day)
    override.delete()
    assert is_working_day(day)


@pytest.mark.django_db
def test_other_processes_notice_the_shared_generation(settings):
    """Another process changed an override: this one sees the new stamp and rebuilds."""
    settings.GOVDESK_CALENDAR_RECHECK_SECONDS = 0
    day = date(2026, 3, 3)
    assert is_working_day(day)
    # Written behind this process's back (no signal), as another process would.
    CalendarOverride.objects.bulk_create([CalendarOverride(date=day, kind="holiday")])
    assert is_working_day(day)  # still the cached table
    calendar.publish_generation()
    assert not is_working_day(day)


@pytest.mark.django_db
def test_next_working_day_skips_the_golden_week():
    assert next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert next_working_day(date(2026, 10, 8)) == date(2026, 10, 9)
    assert next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)  # make-up Saturday
    assert next_working_day(date(2026, 10, 10), include_self=True) == date(2026, 10, 10)
