"""The duty roster (值班表) API: unit admins keep it, members read it.
Docs: docs/integrations.md#emergency."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.audit.models import AuditEvent
from api.integrations.emergency.models import DutyAssignment
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db
DUTY = "/api/v1/integrations/emergency/duty/"
DAY = date(2026, 12, 8)


def body(unit, officer, day=DAY, shift="day") -> dict:
    return {"unit_id": unit.pk, "day": day.isoformat(), "shift": shift, "officer_id": officer.pk}


def test_unit_admin_puts_a_member_on_a_shift(org, personas):
    alice = client_for(personas["alice"])
    created = alice.post(DUTY, body(org.office, personas["bob"]), format="json")
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "unit": {"id": org.office.pk, "name": org.office.name},
        "day": "2026-12-08",
        "shift": "day",
        "officer": {"id": personas["bob"].pk, "display_name": "bob"},
    }
    again = alice.post(DUTY, body(org.office, personas["bob"]), format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "duty_exists"
    assert AuditEvent.objects.filter(action="emergency.duty_added").count() == 1


def test_refusals(org, personas):
    alice = client_for(personas["alice"])
    # Not a member of the office.
    outsider = alice.post(DUTY, body(org.office, personas["charlie"]), format="json")
    assert outsider.status_code == 400 and "officer_id" in outsider.json()["error"]["fields"]
    # Not an admin of the bureau; not an admin at all.
    assert alice.post(DUTY, body(org.bureau, personas["charlie"]), format="json").status_code == 403
    bob = client_for(personas["bob"])
    assert bob.post(DUTY, body(org.office, personas["bob"]), format="json").status_code == 403
    assert AuditEvent.objects.filter(action="emergency.duty_add", result="denied").count() == 2
    bad = alice.post(DUTY, {**body(org.office, personas["bob"]), "shift": "noon"}, format="json")
    assert bad.status_code == 400
    extra = alice.post(DUTY, {**body(org.office, personas["bob"]), "x": 1}, format="json")
    assert extra.json()["error"]["code"] == "unknown_field"


def test_who_reads_and_removes(org, personas):
    duty = DutyAssignment.objects.create(
        unit=org.office,
        day=DAY,
        shift="night",
        officer=personas["bob"],
        created_by=personas["alice"],
    )
    assert [d["id"] for d in client_for(personas["bob"]).get(DUTY).json()["results"]] == [duty.pk]
    assert [d["id"] for d in client_for(personas["leo"]).get(DUTY).json()["results"]] == [duty.pk]
    assert client_for(personas["charlie"]).get(DUTY).json()["results"] == []
    assert client_for(personas["charlie"]).delete(f"{DUTY}{duty.pk}/").status_code == 404
    assert client_for(personas["bob"]).delete(f"{DUTY}{duty.pk}/").status_code == 403
    assert client_for(personas["alice"]).delete(f"{DUTY}{duty.pk}/").status_code == 204
    assert not DutyAssignment.objects.exists()
    assert client_for(personas["alice"]).delete(f"{DUTY}{duty.pk}/").status_code == 404


def test_filters(org, personas):
    for offset in range(3):
        DutyAssignment.objects.create(
            unit=org.office,
            day=DAY + timedelta(days=offset),
            shift="day",
            officer=personas["bob"],
            created_by=personas["alice"],
        )
    alice = client_for(personas["alice"])
    found = alice.get(DUTY, {"from": "2026-12-09", "to": "2026-12-09", "unit": org.office.pk})
    assert [d["day"] for d in found.json()["results"]] == ["2026-12-09"]
    assert [d["day"] for d in alice.get(DUTY).json()["results"]] == [
        "2026-12-08",
        "2026-12-09",
        "2026-12-10",
    ]
    assert alice.get(DUTY, {"from": "soon"}).status_code == 400


def test_duty_list_query_budget(org, personas, django_assert_max_num_queries):
    alice = client_for(personas["alice"])
    DutyAssignment.objects.create(
        unit=org.office, day=DAY, shift="day", officer=personas["bob"], created_by=personas["alice"]
    )
    with django_assert_max_num_queries(10) as few:
        alice.get(DUTY)
    for i in range(12):
        person = make_user(f"officer{i}", org.office)
        DutyAssignment.objects.create(
            unit=org.office, day=DAY, shift="night", officer=person, created_by=personas["alice"]
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(alice.get(DUTY).json()["results"]) == 13
