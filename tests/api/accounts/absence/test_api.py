"""The absence API: /me/absences/ and /users/{id}/absences/ (docs/delegation.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.accounts.models import Absence
from api.audit.models import AuditEvent
from tests.api.accounts.absence.conftest import make_absence
from tests.personas import client_for

pytestmark = pytest.mark.django_db
MINE = "/api/v1/me/absences/"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def period(start_in=-HOUR, length=DAY, **extra):
    now = timezone.now()
    return {
        "starts_at": (now + start_in).isoformat(),
        "ends_at": (now + start_in + length).isoformat(),
        **extra,
    }


def users(user_id: int) -> str:
    return f"/api/v1/users/{user_id}/absences/"


class TestMine:
    def test_declare_list_and_end(self, personas, leo_post, deputy):
        client = client_for(personas["leo"])
        created = client.post(MINE, period(reason="赴省里开会"), format="json")
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["state"] == "in_effect"
        assert body["backup"]["display_name"] == "副手"
        assert body["user"]["display_name"] == "leo" and body["created_by"]["display_name"] == "leo"
        event = AuditEvent.objects.get(action="absence.declared")
        assert event.actor_username == "leo" and event.detail["reason"] == "赴省里开会"

        listed = client.get(MINE).json()["results"]
        assert [row["id"] for row in listed] == [body["id"]]

        ended = client.post(f"{MINE}{body['id']}/end/")
        assert ended.status_code == 200
        assert ended.json()["state"] == "ended"
        assert ended.json()["ended_early_at"] is not None
        assert AuditEvent.objects.filter(action="absence.ended", actor_username="leo").exists()
        again = client.post(f"{MINE}{body['id']}/end/")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "absence_not_in_effect"

    def test_cancel_before_it_starts(self, personas):
        client = client_for(personas["bob"])
        absence_id = client.post(MINE, period(start_in=DAY), format="json").json()["id"]
        assert client.post(f"{MINE}{absence_id}/end/").status_code == 409  # not in effect yet
        cancelled = client.post(f"{MINE}{absence_id}/cancel/")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert AuditEvent.objects.filter(action="absence.cancelled").count() == 1
        twice = client.post(f"{MINE}{absence_id}/cancel/")
        assert twice.json()["error"]["code"] == "absence_cancelled"
        # A cancelled absence no longer blocks the period.
        assert client.post(MINE, period(start_in=DAY), format="json").status_code == 201

    def test_an_absence_that_started_cannot_be_cancelled(self, personas):
        client = client_for(personas["bob"])
        absence_id = client.post(MINE, period(), format="json").json()["id"]
        response = client.post(f"{MINE}{absence_id}/cancel/")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "absence_already_started"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (period(length=-HOUR), "ends_at"),
            (period(start_in=-3 * DAY, length=DAY), "ends_at"),  # entirely in the past
            (period(length=timedelta(days=90, seconds=1)), "ends_at"),
            ({"starts_at": "tomorrow", "ends_at": "2030-01-01T00:00:00+08:00"}, "starts_at"),
        ],
    )
    def test_invalid_periods(self, personas, body, field):
        response = client_for(personas["bob"]).post(MINE, body, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not Absence.objects.exists()

    def test_ninety_days_is_allowed(self, personas):
        body = period(start_in=HOUR, length=timedelta(days=90))
        assert client_for(personas["bob"]).post(MINE, body, format="json").status_code == 201

    def test_overlapping_absences_are_refused(self, personas):
        client = client_for(personas["bob"])
        assert (
            client.post(MINE, period(start_in=DAY, length=2 * DAY), format="json").status_code
            == 201
        )
        overlap = client.post(MINE, period(start_in=2 * DAY, length=2 * DAY), format="json")
        assert overlap.status_code == 409
        assert overlap.json()["error"]["code"] == "absence_overlaps"
        # Back to back is fine (the end is exclusive).
        first = Absence.objects.get()
        touching = {
            "starts_at": first.ends_at.isoformat(),
            "ends_at": (first.ends_at + DAY).isoformat(),
        }
        assert client.post(MINE, touching, format="json").status_code == 201

    def test_unknown_fields_are_refused(self, personas):
        response = client_for(personas["bob"]).post(MINE, period(user=1), format="json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_field"

    def test_someone_elses_absence_is_not_found_through_me(self, personas):
        other = make_absence(personas["alice"], start_in=-HOUR, length=DAY)
        client = client_for(personas["bob"])
        assert client.post(f"{MINE}{other.pk}/end/").status_code == 404
        assert client.post(f"{MINE}{other.pk}/cancel/").status_code == 404
        assert AuditEvent.objects.filter(action="absence.end", result="denied").exists()

    def test_idempotency_key_declares_once(self, personas):
        client = client_for(personas["bob"])
        # A fresh key: with Redis the cache outlives the test database.
        headers = {"HTTP_IDEMPOTENCY_KEY": f"absence-{uuid.uuid4().hex}"}
        body = period(start_in=DAY)
        first = client.post(MINE, body, format="json", **headers)
        second = client.post(MINE, body, format="json", **headers)
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] == second.json()["id"]
        assert second["Idempotent-Replayed"] == "true"
        assert Absence.objects.count() == 1

    def test_list_query_count_does_not_grow(self, personas, leo_post):
        client = client_for(personas["leo"])

        def queries(rows: int) -> int:
            Absence.objects.all().delete()
            for i in range(rows):
                make_absence(personas["leo"], start_in=DAY * (3 * i + 1), length=DAY)
            with CaptureQueriesContext(connection) as captured:
                assert len(client.get(MINE).json()["results"]) == rows
            return len(captured.captured_queries)

        assert queries(2) == queries(30)


class TestForOthers:
    def test_unit_admin_declares_lists_and_ends_for_a_person(self, personas, leo_post):
        leo = personas["leo"]
        client = client_for(personas["alice"])
        created = client.post(users(leo.pk), period(reason="病假"), format="json")
        assert created.status_code == 201, created.content
        assert created.json()["created_by"]["display_name"] == "alice"
        event = AuditEvent.objects.get(action="absence.declared")
        assert (event.actor_username, event.detail["user_id"]) == ("alice", leo.pk)
        assert [r["id"] for r in client.get(users(leo.pk)).json()["results"]] == [
            created.json()["id"]
        ]
        # leo sees it among his own.
        assert len(client_for(leo).get(MINE).json()["results"]) == 1
        ended = client.post(f"{users(leo.pk)}{created.json()['id']}/end/")
        assert ended.status_code == 200 and ended.json()["state"] == "ended"

    def test_city_it_admin_may(self, personas):
        client = client_for(personas["ivy"])
        target = personas["charlie"]
        assert client.post(users(target.pk), period(), format="json").status_code == 201
        assert client.get(users(target.pk)).status_code == 200

    def test_a_colleague_who_is_not_an_admin_gets_403(self, personas):
        client = client_for(personas["bob"])
        leo = personas["leo"]
        assert client.post(users(leo.pk), period(), format="json").status_code == 403
        assert client.get(users(leo.pk)).status_code == 403
        assert AuditEvent.objects.filter(action="absence.declare", result="denied").exists()

    @pytest.mark.parametrize("name", ["charlie", "dana"])
    def test_outside_the_scope_is_404(self, personas, name):
        leo = personas["leo"]
        absence = make_absence(leo, start_in=-HOUR, length=DAY)
        client = client_for(personas[name])
        assert client.post(users(leo.pk), period(), format="json").status_code == 404
        assert client.get(users(leo.pk)).status_code == 404
        assert client.post(f"{users(leo.pk)}{absence.pk}/end/").status_code == 404
        assert Absence.objects.count() == 1

    def test_absence_of_another_user_under_this_path_is_404(self, personas):
        other = make_absence(personas["bob"], start_in=-HOUR, length=DAY)
        client = client_for(personas["alice"])
        leo = personas["leo"]
        assert client.post(f"{users(leo.pk)}{other.pk}/end/").status_code == 404

    def test_missing_user_is_404(self, personas):
        assert client_for(personas["ivy"]).get(users(987654)).status_code == 404


def test_admin_list_query_count_does_not_grow(personas):
    client = client_for(personas["alice"])
    leo = personas["leo"]

    def queries(rows: int) -> int:
        Absence.objects.all().delete()
        for i in range(rows):
            make_absence(leo, start_in=DAY * (3 * i + 1), length=DAY)
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(users(leo.pk)).json()["results"]) == rows
        return len(captured.captured_queries)

    assert queries(2) == queries(30)
