"""Logout and "my devices" (docs/identity.md#sessions)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from api.accounts.models import RoleAssignment, UserSession
from api.accounts.tokens import issue_tokens, open_session
from api.audit.models import AuditEvent
from tests.api.accounts.identity.support import (
    LOGOUT,
    ME,
    REVOKE_ALL,
    SESSIONS,
    bearer,
    claims,
    error_of,
    login,
    post,
    revoke_url,
)
from tests.personas import Role

pytestmark = pytest.mark.django_db


def devices(api, username: str, count: int) -> list[dict]:
    return [login(api, username, device_name=f"device {i}").json() for i in range(count)]


def is_blacklisted(refresh: str) -> bool:
    return BlacklistedToken.objects.filter(token__jti=claims(refresh)["jti"]).exists()


# --- Logout -----------------------------------------------------------------------------


def test_logout_revokes_the_session_and_blacklists_its_refresh(api, bob):
    pair = login(api, "bob").json()
    client = bearer(pair["access"])
    assert post(client, LOGOUT).status_code == 204
    session = UserSession.objects.get(pk=pair["session_id"])
    assert session.revoked_at is not None
    assert is_blacklisted(pair["refresh"])
    assert error_of(client.get(ME))["code"] == "session_revoked"
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor_id == bob.pk and event.object_id == pair["session_id"]


def test_logout_leaves_other_devices_alone(api, bob):
    phone, laptop = devices(api, "bob", 2)
    post(bearer(phone["access"]), LOGOUT, {"refresh": laptop["refresh"]})
    assert not is_blacklisted(laptop["refresh"])  # another session's token is not touched
    assert bearer(laptop["access"]).get(ME).status_code == 200


def test_logout_with_a_bad_refresh_still_signs_out(api, bob):
    pair = login(api, "bob").json()
    assert post(bearer(pair["access"]), LOGOUT, {"refresh": "garbage"}).status_code == 204
    assert UserSession.objects.get(pk=pair["session_id"]).revoked_at is not None


def test_logout_needs_a_token(api):
    assert error_of(post(api, LOGOUT))["code"] == "not_authenticated"


# --- Listing --------------------------------------------------------------------------------


def test_list_shows_my_active_sessions_with_the_current_flag(api, bob, personas):
    mine = devices(api, "bob", 3)
    login(api, "charlie")
    UserSession.objects.filter(pk=mine[0]["session_id"]).update(revoked_at=timezone.now())
    expired = open_session(bob)
    UserSession.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    response = bearer(mine[2]["access"]).get(SESSIONS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [mine[2]["session_id"], mine[1]["session_id"]]
    assert [r["current"] for r in rows] == [True, False]
    assert rows[1]["device_name"] == "device 1" and rows[1]["ip_address"] == "127.0.0.1"
    assert response.json()["next"] is None


def test_list_is_cursor_paginated(api, bob):
    pairs = devices(api, "bob", 3)
    page = bearer(pairs[0]["access"]).get(SESSIONS, {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = bearer(pairs[0]["access"]).get(page["next"]).json()
    seen = [r["id"] for r in page["results"] + rest["results"]]
    assert sorted(seen) == sorted(p["session_id"] for p in pairs)


def test_list_query_count_does_not_grow(bob, django_assert_num_queries):
    """Two queries (session+user+unit for authentication, the page) for 3 or 34 rows."""

    def sessions(n):
        for _ in range(n):
            open_session(bob)
        return bearer(issue_tokens(bob, open_session(bob)).access)

    few = sessions(2)
    with django_assert_num_queries(2):
        assert len(few.get(SESSIONS).json()["results"]) == 3
    many = sessions(30)
    with django_assert_num_queries(2):
        assert len(many.get(SESSIONS).json()["results"]) == 34


# --- Revoking one ---------------------------------------------------------------------------


def test_revoke_another_device_of_mine(api, bob):
    phone, lost = devices(api, "bob", 2)
    response = post(bearer(phone["access"]), revoke_url(lost["session_id"]))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == lost["session_id"] and body["revoked_at"] and body["current"] is False
    assert error_of(bearer(lost["access"]).get(ME))["code"] == "session_revoked"
    assert is_blacklisted(lost["refresh"])
    assert bearer(phone["access"]).get(ME).status_code == 200
    assert AuditEvent.objects.filter(action="session.revoked").count() == 1


def test_revoking_twice_answers_the_same(api, bob):
    phone, lost = devices(api, "bob", 2)
    client = bearer(phone["access"])
    first = post(client, revoke_url(lost["session_id"])).json()
    second = post(client, revoke_url(lost["session_id"]))
    assert second.status_code == 200 and second.json() == first
    assert AuditEvent.objects.filter(action="session.revoked").count() == 1


def test_revoking_the_current_session_works(api, bob):
    pair = login(api, "bob").json()
    client = bearer(pair["access"])
    response = post(client, revoke_url(pair["session_id"]))
    assert response.status_code == 200 and response.json()["current"] is True
    assert error_of(client.get(ME))["code"] == "session_revoked"


def test_another_users_session_is_a_404_and_recorded(api, bob, personas):
    mine = login(api, "bob").json()
    theirs = login(api, "charlie").json()
    response = post(bearer(mine["access"]), revoke_url(theirs["session_id"]))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert UserSession.objects.get(pk=theirs["session_id"]).revoked_at is None
    denied = AuditEvent.objects.get(action="session.revoke")
    assert denied.result == "denied" and denied.actor_id == bob.pk
    # An id that does not exist answers the same.
    unknown = post(bearer(mine["access"]), revoke_url(uuid.uuid4()))
    assert unknown.status_code == 404 and unknown.json() == response.json()


def test_malformed_session_id_is_a_404_envelope(api, bob):
    pair = login(api, "bob").json()
    response = post(bearer(pair["access"]), "/api/v1/sessions/not-a-uuid/revoke/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- Revoking all ---------------------------------------------------------------------------


def test_revoke_all_keeping_this_device(api, bob):
    here, *others = devices(api, "bob", 3)
    response = post(bearer(here["access"]), REVOKE_ALL, {"keep_current": True})
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert bearer(here["access"]).get(ME).status_code == 200
    for other in others:
        assert error_of(bearer(other["access"]).get(ME))["code"] == "session_revoked"
        assert is_blacklisted(other["refresh"])
    assert AuditEvent.objects.filter(action="session.revoked").count() == 2


def test_revoke_all_including_this_device(api, bob, personas):
    here, other = devices(api, "bob", 2)
    charlie = login(api, "charlie").json()
    assert post(bearer(here["access"]), REVOKE_ALL).json() == {"revoked": 2}
    assert error_of(bearer(here["access"]).get(ME))["code"] == "session_revoked"
    assert error_of(bearer(other["access"]).get(ME))["code"] == "session_revoked"
    assert bearer(charlie["access"]).get(ME).status_code == 200


def test_revoke_all_is_idempotent(api, bob):
    here, _other = devices(api, "bob", 2)
    client = bearer(here["access"])
    assert post(client, REVOKE_ALL, {"keep_current": True}).json() == {"revoked": 1}
    assert post(client, REVOKE_ALL, {"keep_current": True}).json() == {"revoked": 0}


# --- Me ---------------------------------------------------------------------------------------


def test_me_reads_roles_from_the_database(api, bob, org):
    pair = login(api, "bob").json()
    client = bearer(pair["access"])
    body = client.get(ME).json()
    assert body == {
        "id": bob.pk,
        "username": "bob",
        "display_name": "bob",
        "title": "",
        "unit": {"id": org.office.pk, "name": org.office.name},
        "roles": body["roles"],
        "has_totp": False,
        "password_expires_at": body["password_expires_at"],
        "session_id": pair["session_id"],
        "mfa_setup_required": False,
    }
    assert sorted(r["role"] for r in body["roles"]) == ["clerk", "staff"]
    # A role granted after the token was issued shows at once; a removed one disappears.
    RoleAssignment.objects.create(user=bob, role=Role.LEADER, unit=org.bureau)
    RoleAssignment.objects.filter(user=bob, role=Role.CLERK).delete()
    roles = client.get(ME).json()["roles"]
    assert sorted((r["role"], r["unit_id"]) for r in roles) == [
        ("leader", org.bureau.pk),
        ("staff", org.office.pk),
    ]


def test_me_query_count(bob, django_assert_num_queries):
    client = bearer(issue_tokens(bob, open_session(bob)).access)
    with django_assert_num_queries(2):  # session+user+unit, roles
        assert client.get(ME).status_code == 200
