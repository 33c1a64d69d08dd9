"""Staff accounts and plain roles (docs/organisation.md#people-and-roles)."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from api.accounts.models import Role, RoleAssignment, User
from api.accounts.tokens import open_session
from tests.api.accounts.org.helpers import error_code, events
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db

NEW = {
    "username": "wang.fang",
    "display_name": "王芳",
    "password": "Chun-Feng#2026",
    "title": "科员",
}


class TestCreateStaff:
    def test_unit_admin_creates_a_staff_account(self, as_, org):
        response = as_("alice").post(f"/api/v1/units/{org.office.pk}/users/", NEW, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["must_change_password"] is True
        assert [r["role"] for r in body["roles"]] == ["staff"]
        assert "password" not in body
        user = User.objects.get(username="wang.fang")
        assert user.unit_id == org.office.pk and user.must_change_password
        assert authenticate(username="wang.fang", password=NEW["password"]) == user
        (event,) = events("user.created", "success")
        assert event.detail == {
            "username": "wang.fang",
            "unit_id": org.office.pk,
            "roles": ["staff"],
        }
        assert NEW["password"] not in str(event.detail)

    @pytest.mark.parametrize("password", ["short1!A", "12345678901", "wangfang2026", "password123"])
    def test_password_policy(self, as_, org, password):
        response = as_("alice").post(
            f"/api/v1/units/{org.office.pk}/users/", {**NEW, "password": password}, format="json"
        )
        assert response.status_code == 400
        assert "password" in response.json()["error"]["fields"]
        assert not User.objects.filter(username="wang.fang").exists()

    def test_username_taken_in_any_case(self, as_, org):
        response = as_("alice").post(
            f"/api/v1/units/{org.office.pk}/users/", {**NEW, "username": "BOB"}, format="json"
        )
        assert response.status_code == 400 and "username" in response.json()["error"]["fields"]

    @pytest.mark.parametrize(
        ("persona", "status"), [("dana", 404), ("charlie", 404), ("bob", 403), ("sam", 403)]
    )
    def test_outsiders(self, as_, org, persona, status):
        response = as_(persona).post(f"/api/v1/units/{org.office.pk}/users/", NEW, format="json")
        assert response.status_code == status
        assert events("user.create", "denied")[-1].actor_username == persona
        assert not User.objects.filter(username="wang.fang").exists()

    def test_district_admin_creates_in_a_township(self, as_, org):
        response = as_("dana").post(f"/api/v1/units/{org.township.pk}/users/", NEW, format="json")
        assert response.status_code == 201


class TestEdit:
    def test_visibility_of_a_person(self, as_, personas):
        url = f"/api/v1/users/{personas['bob'].pk}/"
        assert as_("bob").get(url).status_code == 200
        assert as_("leo").get(url).status_code == 200
        assert as_("charlie").get(url).status_code == 404
        assert as_("dana").get(url).status_code == 404
        # Everyone sees themselves.
        assert as_("charlie").get(f"/api/v1/users/{personas['charlie'].pk}/").status_code == 200

    def test_admin_edits_profile(self, as_, personas):
        url = f"/api/v1/users/{personas['bob'].pk}/"
        response = as_("alice").patch(
            url,
            {"display_name": "鲍勃", "title": "收发文员", "mobile": "13800000000"},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["display_name"] == "鲍勃"
        (event,) = events("user.updated", "success")
        assert set(event.detail["changes"]) == {"display_name", "title", "mobile"}

    def test_refusals(self, as_, personas):
        url = f"/api/v1/users/{personas['bob'].pk}/"
        assert as_("dana").patch(url, {"title": "x"}, format="json").status_code == 404
        assert as_("leo").patch(url, {"title": "x"}, format="json").status_code == 403
        response = as_("alice").patch(url, {"username": "root"}, format="json")
        assert error_code(response) == "unknown_field"
        response = as_("alice").patch(url, {"mobile": "call me"}, format="json")
        assert response.status_code == 400

    def test_deactivating_signs_out_every_device(self, as_, personas):
        bob = personas["bob"]
        bob_client = client_for(bob)
        open_session(bob, device_name="phone")
        assert bob_client.get(f"/api/v1/units/{bob.unit_id}/members/").status_code == 200
        response = as_("alice").patch(
            f"/api/v1/users/{bob.pk}/", {"is_active": False}, format="json"
        )
        assert response.status_code == 200 and response.json()["is_active"] is False
        assert not bob.sessions.filter(revoked_at__isnull=True).exists()
        assert bob_client.get(f"/api/v1/units/{bob.unit_id}/members/").status_code == 401
        (event,) = events("user.updated", "success")
        assert event.detail["sessions_revoked"] == 2

    def test_cannot_deactivate_self(self, as_, personas):
        response = as_("alice").patch(
            f"/api/v1/users/{personas['alice'].pk}/", {"is_active": False}, format="json"
        )
        assert response.status_code == 403 and error_code(response) == "own_account"

    def test_unit_admin_cannot_touch_a_city_it_admin_in_their_unit(self, as_, org):
        it = make_user("it2", org.office, Role.CITY_IT_ADMIN)
        response = as_("alice").patch(
            f"/api/v1/users/{it.pk}/", {"is_active": False}, format="json"
        )
        assert response.status_code == 403
        it.refresh_from_db()
        assert it.is_active

    def test_unit_admin_cannot_touch_a_wider_admin(self, as_, org):
        # Someone seated in the township but admin of the whole district.
        wide = make_user("wide", org.township)
        RoleAssignment.objects.create(user=wide, role=Role.UNIT_ADMIN, unit=org.district)
        narrow = make_user("narrow", org.township, Role.UNIT_ADMIN)
        response = client_for(narrow).patch(
            f"/api/v1/users/{wide.pk}/", {"title": "x"}, format="json"
        )
        assert response.status_code == 403
        assert (
            as_("dana")
            .patch(f"/api/v1/users/{wide.pk}/", {"title": "x"}, format="json")
            .status_code
            == 200
        )


class TestRoles:
    def roles(self, user: User) -> set[tuple[str, int]]:
        return set(RoleAssignment.objects.filter(user=user).values_list("role", "unit_id"))

    def test_grant_and_revoke_a_plain_role(self, as_, personas, org):
        # staff is the one role a unit admin still grants directly.
        kai = make_user("kai", org.office)
        url = f"/api/v1/users/{kai.pk}/roles/"
        response = as_("alice").post(url, {"role": "staff"}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["unit_id"] == org.office.pk
        assert ("staff", org.office.pk) in self.roles(kai)
        again = as_("alice").post(url, {"role": "staff"}, format="json")
        assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
        assert len(events("role.granted", "success")) == 1
        listing = client_for(kai).get(url).json()["results"]
        assert {row["role"] for row in listing} == {"staff"}
        response = as_("alice").delete(f"{url}{response.json()['id']}/")
        assert response.status_code == 204
        assert ("staff", org.office.pk) not in self.roles(kai)
        assert events("role.revoked", "success")[0].detail["role"] == "staff"

    def test_filed_roles_need_an_appointment(self, as_, personas):
        bob = personas["bob"]
        url = f"/api/v1/users/{bob.pk}/roles/"
        response = as_("alice").post(url, {"role": "unit_admin"}, format="json")
        assert response.status_code == 422 and error_code(response) == "filed_role"
        clerk = RoleAssignment.objects.get(user=bob, role="clerk")
        response = as_("ivy").delete(f"{url}{clerk.pk}/")
        assert response.status_code == 422 and error_code(response) == "filed_role"
        assert RoleAssignment.objects.filter(pk=clerk.pk).exists()
        assert [e.detail["reason"] for e in events("role.grant", "denied")] == ["filed_role"]

    @pytest.mark.parametrize("role", ["seal_custodian", "supervisor", "leader"])
    def test_every_sensitive_role_is_filed_and_the_error_names_the_route(self, as_, personas, role):
        bob = personas["bob"]
        url = f"/api/v1/users/{bob.pk}/roles/"
        zh = as_("alice").post(url, {"role": role}, format="json")
        assert zh.status_code == 422 and error_code(zh) == "filed_role"
        error = zh.json()["error"]
        assert error["route"] == "/api/v1/appointments/"
        assert "备案" in error["message"] and "/api/v1/appointments/" in error["message"]
        en = as_("alice").post(url, {"role": role}, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert error_code(en) == "filed_role"
        assert "appointment request" in en.json()["error"]["message"]
        assert "/api/v1/appointments/" in en.json()["error"]["message"]
        assert (role, bob.unit_id) not in self.roles(bob)
        denied = events("role.grant", "denied")
        assert [(e.detail["reason"], e.detail["role"]) for e in denied] == [
            ("filed_role", role)
        ] * 2
        # Revoking a sensitive role directly is refused the same way (fixture grant).
        held = RoleAssignment.objects.create(user=bob, role=role, unit=bob.unit)
        response = as_("ivy").delete(f"{url}{held.pk}/")
        assert response.status_code == 422 and error_code(response) == "filed_role"
        assert RoleAssignment.objects.filter(pk=held.pk).exists()

    def test_city_it_admin_role_only_by_city_it_admin(self, as_, personas):
        url = f"/api/v1/users/{personas['bob'].pk}/roles/"
        response = as_("alice").post(url, {"role": "city_it_admin"}, format="json")
        assert response.status_code == 403
        assert as_("ivy").post(url, {"role": "city_it_admin"}, format="json").status_code == 201

    def test_role_scope_must_be_inside_the_admins_subtree(self, as_, personas, org):
        url = f"/api/v1/users/{personas['bob'].pk}/roles/"
        response = as_("alice").post(url, {"role": "staff", "unit_id": org.city.pk}, format="json")
        assert response.status_code == 403
        assert (
            as_("ivy")
            .post(url, {"role": "staff", "unit_id": org.city.pk}, format="json")
            .status_code
            == 201
        )

    def test_own_roles_are_off_limits(self, as_, personas):
        response = as_("alice").post(
            f"/api/v1/users/{personas['alice'].pk}/roles/", {"role": "leader"}, format="json"
        )
        assert response.status_code == 403 and error_code(response) == "own_account"

    def test_outsiders_get_404(self, as_, personas):
        url = f"/api/v1/users/{personas['bob'].pk}/roles/"
        assert as_("dana").post(url, {"role": "leader"}, format="json").status_code == 404
        assert as_("dana").get(url).status_code == 404
        assert as_("leo").post(url, {"role": "leader"}, format="json").status_code == 403
        assert as_("alice").delete(f"{url}987654/").status_code == 404
