"""The State Council's yearly arrangement: import into the override table (city IT
admin, validated, atomic, audited) and the warning when the current or next year has
none (docs/workdays.md#yearly-arrangement). Dates are injected: nothing here depends
on today's date or on which years the installed holidays package knows."""

from __future__ import annotations

from datetime import date

import pytest

from api.audit.models import AuditEvent
from api.workdays import arrangements
from api.workdays.calendar import day_info, is_working_day
from api.workdays.models import CalendarOverride, HolidayArrangement
from tests.personas import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/calendar/arrangements/"
YEAR = 2098  # a year no holidays package will ever carry

ARRANGEMENT = {
    "year": YEAR,
    "notice": "国务院办公厅关于2098年部分节假日安排的通知",
    "days": [
        {"date": f"{YEAR}-01-01", "kind": "holiday", "name": "元旦"},
        {"date": f"{YEAR}-03-11", "kind": "holiday", "name": "纪念日"},  # a Tuesday
        {"date": f"{YEAR}-03-12", "kind": "holiday", "name": "纪念日"},
        {"date": f"{YEAR}-03-15", "kind": "workday", "name": "调休上班"},  # a Saturday
    ],
}


@pytest.fixture
def known_years(monkeypatch):
    """The package "knows" exactly these years."""
    years = {2025, 2026}
    monkeypatch.setattr(arrangements, "package_years", lambda: set(years))
    return years


@pytest.fixture
def on(monkeypatch):
    def set_today(day: date) -> None:
        monkeypatch.setattr(arrangements, "today", lambda: day)

    return set_today


def test_import_replaces_the_years_overrides_atomically_and_is_audited(personas):
    CalendarOverride.objects.create(date=date(YEAR, 5, 5), kind="holiday", name="旧")
    CalendarOverride.objects.create(date=date(YEAR + 1, 1, 2), kind="holiday", name="next year")
    assert is_working_day(date(YEAR, 3, 11)) and not is_working_day(date(YEAR, 3, 15))
    response = client_for(personas["ivy"]).post(URL, ARRANGEMENT, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["year"] == YEAR and response.json()["day_count"] == 4
    dates = sorted(CalendarOverride.objects.filter(date__year=YEAR).values_list("date", flat=True))
    assert [d.isoformat() for d in dates] == [
        f"{YEAR}-01-01",
        f"{YEAR}-03-11",
        f"{YEAR}-03-12",
        f"{YEAR}-03-15",
    ]
    assert CalendarOverride.objects.filter(date=date(YEAR + 1, 1, 2)).exists()  # other years kept
    # The calendar sees it at once (bulk insert sends no signal: the import clears it).
    assert not is_working_day(date(YEAR, 3, 11))
    assert day_info(date(YEAR, 3, 15)).kind == "makeup"
    (event,) = AuditEvent.objects.filter(action="calendar.arrangement_imported")
    assert event.actor_username == "ivy" and event.detail["year"] == YEAR
    assert event.detail["holidays"] == 3 and event.detail["workdays"] == 1
    assert event.detail["removed"] == [f"{YEAR}-05-05 holiday 旧"]
    again = client_for(personas["ivy"]).post(URL, ARRANGEMENT, format="json")
    assert again.status_code == 201
    assert HolidayArrangement.objects.get(year=YEAR).day_count == 4
    assert CalendarOverride.objects.filter(date__year=YEAR).count() == 4


@pytest.mark.parametrize(
    "days",
    [
        [],
        [{"date": f"{YEAR + 1}-01-01", "kind": "holiday"}],
        [
            {"date": f"{YEAR}-01-01", "kind": "holiday"},
            {"date": f"{YEAR}-01-01", "kind": "holiday"},
        ],
        [{"date": f"{YEAR}-03-15", "kind": "workday"}],
        [{"date": f"{YEAR}-01-01", "kind": "maybe"}],
        [{"date": f"{YEAR}-01-01", "kind": "holiday", "extra": 1}],
    ],
)
def test_an_invalid_arrangement_changes_nothing(personas, days):
    CalendarOverride.objects.create(date=date(YEAR, 5, 5), kind="holiday", name="旧")
    response = client_for(personas["ivy"]).post(URL, {**ARRANGEMENT, "days": days}, format="json")
    assert response.status_code == 400, response.content
    assert list(CalendarOverride.objects.values_list("name", flat=True)) == ["旧"]
    assert not HolidayArrangement.objects.exists()


@pytest.mark.parametrize("name", ["alice", "bob", "sam"])
def test_only_the_city_it_admin_imports(personas, name):
    response = client_for(personas[name]).post(URL, ARRANGEMENT, format="json")
    assert response.status_code == 403
    assert not CalendarOverride.objects.exists() and not HolidayArrangement.objects.exists()
    (event,) = AuditEvent.objects.filter(action="calendar.arrangement_import", result="denied")
    assert event.actor_username == name


def test_warning_when_next_year_has_no_arrangement(known_years):
    assert arrangements.warnings(date(2025, 12, 1)) == []
    (warning,) = arrangements.warnings(date(2026, 12, 1))
    assert warning["code"] == "holiday_arrangement_missing" and warning["year"] == 2027
    assert [w["year"] for w in arrangements.warnings(date(2027, 1, 5))] == [2027, 2028]
    HolidayArrangement.objects.create(year=2027, day_count=30)
    assert arrangements.warnings(date(2026, 12, 1)) == []


def test_the_calendar_api_carries_the_warning(personas, known_years, on):
    client = client_for(personas["ivy"])
    on(date(2025, 11, 3))
    assert client.get("/api/v1/calendar/").json()["warnings"] == []
    on(date(2026, 11, 3))
    body = client.get("/api/v1/calendar/", HTTP_ACCEPT_LANGUAGE="en").json()
    (warning,) = body["warnings"]
    assert warning["year"] == 2027 and "2027" in warning["message"]
    assert "/api/v1/calendar/arrangements/" in warning["message"]
    zh = client.get("/api/v1/calendar/", HTTP_ACCEPT_LANGUAGE="zh-CN").json()["warnings"][0]
    assert "2027 年的国务院节假日安排尚未录入" in zh["message"]


def test_health_carries_the_warning_without_degrading(client, known_years, on):
    on(date(2026, 11, 3))
    response = client.get("/api/v1/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert [(w["code"], w["year"]) for w in body["warnings"]] == [
        ("holiday_arrangement_missing", 2027)
    ]
    HolidayArrangement.objects.create(year=2027, day_count=30)
    assert client.get("/api/v1/health/").json()["warnings"] == []


def test_the_package_years_are_read_from_the_holidays_package():
    years = arrangements.package_years()
    assert {2024, 2025, 2026} <= years


def test_arrangement_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas["bob"])

    def count_queries(rows: int) -> int:
        HolidayArrangement.objects.all().delete()
        HolidayArrangement.objects.bulk_create(
            [HolidayArrangement(year=2040 + i, day_count=10) for i in range(rows)]
        )
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(URL).json()) == rows
        return len(captured.captured_queries)

    few, many = count_queries(2), count_queries(30)
    assert few == many
    with django_assert_max_num_queries(few):
        client.get(URL)
