"""Appointment requests (任免备案) for every sensitive role: unit admins, clerks,
leaders, seal custodians, supervisors (docs/organisation.md#appointment-requests)."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from api.accounts.models import AppointmentRequest, Role, RoleAssignment
from tests.api.accounts.org.helpers import error_code, events
from tests.conftest import requires_postgres
from tests.personas import client_for, make_unit, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/appointments/"


@pytest.fixture
def zoe(org):
    """A staff member of the office, candidate for clerk."""
    return make_user("zoe", org.office, Role.STAFF)


def appoint(client, user, unit, role="clerk", kind="appoint", reason="收发文员调整"):
    return client.post(
        URL,
        {"kind": kind, "role": role, "user_id": user.pk, "unit_id": unit.pk, "reason": reason},
        format="json",
    )


def filed(user, role, unit, by) -> AppointmentRequest:
    """An approved appoint request backing ``user``'s ``role`` (a fixture)."""
    return AppointmentRequest.objects.create(
        kind="appoint", role=role, user=user, unit=unit, status="approved", requested_by=by
    )


def holds(user, role, unit) -> bool:
    return RoleAssignment.objects.filter(user=user, role=role, unit=unit).exists()


class TestRequest:
    def test_unit_admin_files_a_request(self, as_, org, zoe):
        response = appoint(as_("alice"), zoe, org.office)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "pending" and body["requested_by"]["display_name"] == "alice"
        assert body["user"]["display_name"] == "zoe" and body["unit_id"] == org.office.pk
        assert not holds(zoe, "clerk", org.office)  # nothing changes before approval
        (event,) = events("appointment.requested", "success")
        assert event.detail["role"] == "clerk" and event.actor_username == "alice"

    def test_double_tap_files_one_request(self, as_, org, zoe):
        assert appoint(as_("alice"), zoe, org.office).status_code == 201
        response = appoint(as_("alice"), zoe, org.office)
        assert response.status_code == 409 and error_code(response) == "appointment_pending"
        assert AppointmentRequest.objects.count() == 1

    def test_outside_subtree_is_refused_and_audited(self, as_, org, zoe):
        response = appoint(as_("dana"), zoe, org.office)
        assert response.status_code == 403
        assert events("appointment.request", "denied")[-1].actor_username == "dana"
        response = appoint(as_("charlie"), zoe, org.office)
        assert response.status_code == 403
        assert not AppointmentRequest.objects.exists()

    def test_person_must_belong_to_the_unit(self, as_, org, personas):
        response = appoint(as_("alice"), personas["charlie"], org.office)
        assert response.status_code == 400 and "user_id" in response.json()["error"]["fields"]

    def test_not_applicable(self, as_, org, personas, zoe):
        bob = personas["bob"]
        filed(bob, "clerk", org.office, personas["ivy"])  # bob is already a filed clerk
        response = appoint(as_("alice"), bob, org.office)
        assert response.status_code == 422 and error_code(response) == "appointment_not_applicable"
        response = appoint(as_("alice"), zoe, org.office, kind="remove")  # zoe is not clerk
        assert response.status_code == 422

    def test_only_filed_roles(self, as_, org, zoe):
        response = appoint(as_("alice"), zoe, org.office, role="staff")
        assert response.status_code == 400 and "role" in response.json()["error"]["fields"]
        response = appoint(as_("ivy"), zoe, org.office, role="city_it_admin")
        assert response.status_code == 400 and "role" in response.json()["error"]["fields"]

    @pytest.mark.parametrize("role", ["seal_custodian", "leader", "supervisor"])
    def test_sensitive_roles_go_through_filing(self, as_, org, zoe, role):
        unit = org.city if role == "supervisor" else org.office
        requester = "ivy" if role == "supervisor" else "alice"
        response = appoint(as_(requester), zoe, unit, role=role, reason="任命")
        assert response.status_code == 201, response.content
        assert not holds(zoe, role, unit)
        decider = make_user("ian", org.city, Role.CITY_IT_ADMIN)
        approved = client_for(decider).post(
            f"{URL}{response.json()['id']}/approve/", {}, format="json"
        )
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        assert holds(zoe, role, unit)

    def test_nobody_supervises_their_own_unit(self, as_, org, zoe):
        response = appoint(as_("alice"), zoe, org.office, role="supervisor")
        assert response.status_code == 422 and error_code(response) == "supervisor_own_unit"
        assert not AppointmentRequest.objects.exists()
        (event,) = events("appointment.request", "denied")
        assert event.detail["reason"] == "supervisor_own_unit"
        # Nor the body (机关) a department belongs to.
        dept = make_unit("综合科", "department", org.office, code="C-OFF-1")
        clerk = make_user("yu", dept, Role.STAFF)
        response = appoint(as_("alice"), clerk, org.office, role="supervisor")
        assert error_code(response) == "supervisor_own_unit"
        # An inspector of the whole city sitting in one of its units is not caught.
        assert appoint(as_("ivy"), zoe, org.city, role="supervisor").status_code == 201

    def test_approval_rechecks_the_own_unit_rule(self, as_, org, zoe):
        response = appoint(as_("ivy"), zoe, org.district, role="supervisor")
        assert response.status_code == 400  # zoe is not of the district
        tom = make_user("tom", org.township, Role.STAFF)
        filed = appoint(as_("ivy"), tom, org.district, role="supervisor")
        assert filed.status_code == 201
        tom.unit = org.district  # moved into the unit meanwhile
        tom.save(update_fields=["unit"])
        decider = make_user("ian", org.city, Role.CITY_IT_ADMIN)
        response = client_for(decider).post(
            f"{URL}{filed.json()['id']}/approve/", {}, format="json"
        )
        assert response.status_code == 422 and error_code(response) == "supervisor_own_unit"
        assert not holds(tom, "supervisor", org.district)

    def test_listing(self, as_, org, zoe, personas):
        appoint(as_("alice"), zoe, org.office)
        tom = make_user("tom", org.township, Role.STAFF)
        assert appoint(as_("dana"), tom, org.township, role="unit_admin").status_code == 201
        mine = as_("alice").get(URL).json()["results"]
        assert [r["user"]["display_name"] for r in mine] == ["zoe"]
        everything = as_("ivy").get(URL).json()["results"]
        assert [r["user"]["display_name"] for r in everything] == ["tom", "zoe"]  # newest first
        assert as_("bob").get(URL).json()["results"] == []
        assert as_("ivy").get(URL + "?status=approved").json()["results"] == []
        assert len(as_("ivy").get(URL + "?status=pending").json()["results"]) == 2
        assert as_("ivy").get(URL + "?status=nope").status_code == 400
        only = as_("ivy").get(f"{URL}?unit={org.township.pk}").json()["results"]
        assert [r["unit_id"] for r in only] == [org.township.pk]


class TestDecide:
    @pytest.fixture
    def pending(self, as_, org, zoe):
        return appoint(as_("alice"), zoe, org.office).json()["id"]

    def test_approve_applies_the_role(self, as_, org, zoe, pending):
        response = as_("ivy").post(f"{URL}{pending}/approve/", {"note": "同意备案"}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "approved" and body["decided_by"]["display_name"] == "ivy"
        assert body["decision_note"] == "同意备案" and body["decided_at"]
        assert holds(zoe, "clerk", org.office)
        (event,) = events("appointment.approved", "success")
        assert event.detail["role_changed"] is True and event.actor_username == "ivy"

    def test_second_approve_returns_the_same_final_state(self, as_, org, zoe, pending):
        first = as_("ivy").post(f"{URL}{pending}/approve/", {}, format="json")
        ivy2 = make_user("ivy2", org.city, Role.CITY_IT_ADMIN)
        second = client_for(ivy2).post(f"{URL}{pending}/approve/", {"note": "x"}, format="json")
        assert second.status_code == 200
        assert second.json() == first.json()  # decided_by is still ivy, note unchanged
        assert RoleAssignment.objects.filter(user=zoe, role="clerk").count() == 1
        assert len(events("appointment.approved")) == 1

    def test_contradicting_decision_is_409(self, as_, pending):
        as_("ivy").post(f"{URL}{pending}/approve/", {}, format="json")
        response = as_("ivy").post(f"{URL}{pending}/reject/", {"note": "no"}, format="json")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
        assert response.json()["error"]["status"] == "approved"
        response = as_("alice").post(f"{URL}{pending}/cancel/", {}, format="json")
        assert response.status_code == 409

    def test_reject_needs_a_note_and_changes_nothing(self, as_, org, zoe, pending):
        response = as_("ivy").post(f"{URL}{pending}/reject/", {}, format="json")
        assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
        response = as_("ivy").post(f"{URL}{pending}/reject/", {"note": "人选不符"}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "rejected"
        assert not holds(zoe, "clerk", org.office)
        assert events("appointment.rejected", "success")[0].detail["note"] == "人选不符"
        # A new request may be filed after the rejection.
        assert appoint(as_("alice"), zoe, org.office).status_code == 201

    @pytest.mark.parametrize(
        ("persona", "status"), [("alice", 403), ("bob", 404), ("dana", 404), ("sam", 404)]
    )
    def test_only_city_it_admin_decides(self, as_, pending, persona, status):
        for verb in ("approve", "reject"):
            response = as_(persona).post(f"{URL}{pending}/{verb}/", {"note": "x"}, format="json")
            assert response.status_code == status
        assert len(events("appointment.approve", "denied")) == 1
        assert len(events("appointment.reject", "denied")) == 1
        assert AppointmentRequest.objects.get(pk=pending).status == "pending"

    def test_no_self_approval(self, as_, org, zoe):
        own = appoint(as_("ivy"), zoe, org.office).json()["id"]
        response = as_("ivy").post(f"{URL}{own}/approve/", {}, format="json")
        assert response.status_code == 403 and error_code(response) == "self_approval"
        assert events("appointment.approve", "denied")[-1].detail["reason"] == "self_approval"
        ivy2 = make_user("ivy2", org.city, Role.CITY_IT_ADMIN)
        response = client_for(ivy2).post(f"{URL}{own}/approve/", {}, format="json")
        assert response.status_code == 200

    def test_cancel_by_requester_only(self, as_, org, zoe, pending, personas):
        assert as_("ivy").post(f"{URL}{pending}/cancel/", {}, format="json").status_code == 403
        assert as_("dana").post(f"{URL}{pending}/cancel/", {}, format="json").status_code == 404
        response = as_("alice").post(f"{URL}{pending}/cancel/", {}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        again = as_("alice").post(f"{URL}{pending}/cancel/", {}, format="json")
        assert again.status_code == 200
        assert len(events("appointment.cancelled", "success")) == 1
        response = as_("ivy").post(f"{URL}{pending}/approve/", {}, format="json")
        assert response.status_code == 409 and response.json()["error"]["status"] == "cancelled"

    def test_removal(self, as_, org, personas):
        bob = personas["bob"]
        request_id = appoint(as_("alice"), bob, org.office, kind="remove").json()["id"]
        response = as_("ivy").post(f"{URL}{request_id}/approve/", {}, format="json")
        assert response.status_code == 200
        assert not holds(bob, "clerk", org.office)
        assert holds(bob, "staff", org.office)

    def test_detail_visibility(self, as_, pending):
        assert as_("alice").get(f"{URL}{pending}/").status_code == 200
        assert as_("ivy").get(f"{URL}{pending}/").status_code == 200
        assert as_("bob").get(f"{URL}{pending}/").status_code == 404


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_apply_once(org, personas):
    """Two city IT admins tap approve at the same moment: one transaction applies the
    request, the other waits on the row lock and sees the final state. Raced several
    times, because a lost race shows only sometimes."""
    admins = [personas["ivy"], make_user("ivy2", org.city, Role.CITY_IT_ADMIN)]
    clients = [client_for(admin) for admin in admins]
    for round_ in range(4):
        person = make_user(f"zoe{round_}", org.office, Role.STAFF)
        request = AppointmentRequest.objects.create(
            kind="appoint",
            role="clerk",
            user=person,
            unit=org.office,
            requested_by=personas["alice"],
        )
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def tap(client, request_id=request.pk, barrier=barrier, statuses=statuses):
            try:
                barrier.wait()
                response = client.post(f"{URL}{request_id}/approve/", {}, format="json")
                statuses.append(response.status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=tap, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200, 200]
        assert RoleAssignment.objects.filter(user=person, role="clerk").count() == 1
        approved = [e for e in events("appointment.approved") if e.object_id == str(request.pk)]
        assert len(approved) == 1, f"round {round_}: {len(approved)} approvals recorded"


class TestUnfiledGrants:
    def listed(self, *args) -> list[dict]:
        out = io.StringIO()
        call_command("list_unfiled_roles", "--json", *args, stdout=out)
        return [json.loads(line) for line in out.getvalue().splitlines()]

    def test_the_command_lists_direct_grants_and_regularising_drops_them(self, as_, org, personas):
        rows = self.listed()
        assert {(r["username"], r["role"]) for r in rows} == {
            ("alice", "unit_admin"),
            ("bob", "clerk"),
            ("dana", "unit_admin"),
            ("sam", "supervisor"),
            ("leo", "leader"),
        }  # staff and city_it_admin are not filed roles
        sam = next(r for r in rows if r["username"] == "sam")
        assert sam["supervisor_own_unit"] is True  # scoped to the city, sits in the city
        assert not any(r["supervisor_own_unit"] for r in rows if r["username"] != "sam")
        assert [r["username"] for r in self.listed("--role", "leader")] == ["leo"]
        # Regularising leo's direct grant: an appoint request for the role he holds.
        response = appoint(as_("alice"), personas["leo"], org.office, role="leader")
        assert response.status_code == 201, response.content
        decided = as_("ivy").post(f"{URL}{response.json()['id']}/approve/", {}, format="json")
        assert decided.status_code == 200
        (event,) = events("appointment.approved", "success")
        assert event.detail["role_changed"] is False
        assert self.listed("--role", "leader") == []
        text = io.StringIO()
        call_command("list_unfiled_roles", stdout=text)
        assert "! supervises own unit" in text.getvalue()
        assert (
            text.getvalue()
            .rstrip()
            .endswith("4 direct grant(s) without an approved appointment request.")
        )
        with pytest.raises(CommandError):
            call_command("list_unfiled_roles", "--fail-if-any", stdout=io.StringIO())
