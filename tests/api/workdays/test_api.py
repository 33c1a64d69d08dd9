"""The calendar API: the range endpoint and the override table (city IT admin only,
audited, paginated with a fixed number of queries)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.audit.models import AuditEvent
from api.workdays.calendar import is_working_day
from api.workdays.models import CalendarOverride
from tests.personas import client_for

OVERRIDES = "/api/v1/calendar/overrides/"


@pytest.mark.django_db
class TestRange:
    def test_golden_week_and_the_make_up_saturday(self, personas):
        response = client_for(personas["charlie"]).get(
            "/api/v1/calendar/", {"from": "2026-09-30", "to": "2026-10-10"}
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["from"], body["to"]) == ("2026-09-30", "2026-10-10")
        working = {d["date"]: d["working"] for d in body["days"]}
        assert len(working) == 11
        assert working["2026-09-30"] is True
        assert not any(working[f"2026-10-0{i}"] for i in range(1, 8))
        assert working["2026-10-08"] and working["2026-10-09"]
        saturday = body["days"][-1]
        assert saturday == {
            "date": "2026-10-10",
            "working": True,
            "kind": "makeup",
            "source": "official",
            "name": "调休上班",
        }

    def test_default_range_is_six_weeks_from_today(self, personas):
        body = client_for(personas["bob"]).get("/api/v1/calendar/").json()
        assert len(body["days"]) == 42

    def test_at_most_400_days(self, personas):
        client = client_for(personas["bob"])
        ok = client.get("/api/v1/calendar/", {"from": "2026-01-01", "to": "2027-02-04"})
        assert ok.status_code == 200 and len(ok.json()["days"]) == 400
        too_long = client.get("/api/v1/calendar/", {"from": "2026-01-01", "to": "2027-02-05"})
        assert too_long.status_code == 400
        assert "to" in too_long.json()["error"]["fields"]

    @pytest.mark.parametrize(
        "params",
        [
            {"from": "2026-13-01"},
            {"from": "yesterday"},
            {"from": "2026-10-10", "to": "2026-10-01"},
            {"to": "2026-1-1"},
        ],
    )
    def test_bad_parameters(self, personas, params):
        response = client_for(personas["bob"]).get("/api/v1/calendar/", params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"

    def test_anonymous_is_refused(self, org):
        assert client_for(None).get("/api/v1/calendar/").status_code == 401


@pytest.mark.django_db
class TestOverrides:
    def test_city_it_admin_adds_and_removes_an_override(self, personas):
        client = client_for(personas["ivy"])
        saturday = date(2027, 2, 20)
        assert not is_working_day(saturday)
        response = client.post(
            OVERRIDES,
            {"date": "2027-02-20", "kind": "workday", "name": "春节调休上班"},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["kind"] == "workday"
        assert is_working_day(saturday)
        day = client.get("/api/v1/calendar/", {"from": "2027-02-20", "to": "2027-02-20"}).json()
        assert day["days"][0]["source"] == "override"
        event = AuditEvent.objects.get(action="calendar.override_added")
        assert event.actor_username == "ivy" and event.detail["date"] == "2027-02-20"

        assert client.delete(f"{OVERRIDES}2027-02-20/").status_code == 204
        assert not is_working_day(saturday)
        assert AuditEvent.objects.filter(action="calendar.override_removed").count() == 1
        assert client.delete(f"{OVERRIDES}2027-02-20/").status_code == 404

    def test_a_second_override_for_the_same_date_is_a_conflict(self, personas):
        client = client_for(personas["ivy"])
        body = {"date": "2027-01-02", "kind": "holiday"}
        assert client.post(OVERRIDES, body, format="json").status_code == 201
        again = client.post(OVERRIDES, body, format="json")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "calendar_override_exists"

    @pytest.mark.parametrize("name", ["alice", "bob", "dana", "sam"])
    def test_others_read_but_cannot_change(self, personas, name):
        CalendarOverride.objects.create(date=date(2027, 1, 4), kind="holiday")
        client = client_for(personas[name])
        assert client.get(OVERRIDES).status_code == 200
        post = client.post(OVERRIDES, {"date": "2027-01-05", "kind": "holiday"}, format="json")
        assert post.status_code == 403
        assert client.delete(f"{OVERRIDES}2027-01-04/").status_code == 403
        assert CalendarOverride.objects.count() == 1
        denied = AuditEvent.objects.filter(actor_username=name, result="denied")
        assert set(denied.values_list("action", flat=True)) == {
            "calendar.override_add",
            "calendar.override_remove",
        }

    def test_unknown_fields_and_bad_values(self, personas):
        client = client_for(personas["ivy"])
        unknown = client.post(
            OVERRIDES, {"date": "2027-01-05", "kind": "holiday", "x": 1}, format="json"
        )
        assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_field"
        bad = client.post(OVERRIDES, {"date": "2027-01-05", "kind": "maybe"}, format="json")
        assert bad.status_code == 400
        assert client.delete(f"{OVERRIDES}not-a-date/").status_code == 404

    def test_list_is_ordered_filtered_and_paginated(self, personas):
        CalendarOverride.objects.bulk_create(
            [
                CalendarOverride(date=date(2027, 1, 1) + timedelta(days=i), kind="holiday")
                for i in range(5)
            ]
            + [CalendarOverride(date=date(2028, 1, 3), kind="workday")]
        )
        client = client_for(personas["bob"])
        page = client.get(OVERRIDES, {"page_size": 2}).json()
        assert [row["date"] for row in page["results"]] == ["2027-01-01", "2027-01-02"]
        following = client.get(page["next"]).json()
        assert [row["date"] for row in following["results"]] == ["2027-01-03", "2027-01-04"]
        only_2028 = client.get(OVERRIDES, {"year": "2028"}).json()["results"]
        assert [row["date"] for row in only_2028] == ["2028-01-03"]
        assert client.get(OVERRIDES, {"year": "20x8"}).status_code == 400

    def test_list_query_count_does_not_grow(self, personas, django_assert_max_num_queries):
        client = client_for(personas["bob"])

        def count_queries(rows: int) -> int:
            CalendarOverride.objects.all().delete()
            CalendarOverride.objects.bulk_create(
                [
                    CalendarOverride(date=date(2030, 1, 1) + timedelta(days=i), kind="holiday")
                    for i in range(rows)
                ]
            )
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert len(client.get(OVERRIDES).json()["results"]) == rows
            return len(captured.captured_queries)

        few, many = count_queries(2), count_queries(40)
        assert few == many
        with django_assert_max_num_queries(few):
            client.get(OVERRIDES)
