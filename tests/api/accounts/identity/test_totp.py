"""TOTP second factor and the per-role requirement (docs/identity.md#totp)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from api.accounts import throttling
from api.accounts.models import LoginThrottle, User, UserSession
from api.audit.models import AuditEvent
from tests.api.accounts.identity.support import (
    LOGOUT,
    ME,
    SESSIONS,
    TOTP_CONFIRM,
    TOTP_DISABLE,
    TOTP_SETUP,
    bearer,
    error_of,
    login,
    post,
    totp_code,
    wait_for_fresh_time_step,
)
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _steady_clock():
    wait_for_fresh_time_step()


def signed_in(api, username: str, **fields) -> dict:
    response = login(api, username, **fields)
    assert response.status_code == 200, response.content
    return response.json()


def test_setup_then_confirm_enables_totp(api, bob):
    client = bearer(signed_in(api, "bob")["access"])
    response = post(client, TOTP_SETUP)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret, uri = response.json()["secret"], response.json()["otpauth_uri"]
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert parse_qs(parts.query)["secret"] == [secret]
    assert parse_qs(parts.query)["issuer"] == ["GovDesk"]
    bob.refresh_from_db()
    assert bob.totp_secret == secret and not bob.has_totp  # unconfirmed yet
    wrong = post(client, TOTP_CONFIRM, {"code": "000000"})
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "otp_invalid"
    assert post(client, TOTP_CONFIRM, {"code": totp_code(secret)}).json() == {"has_totp": True}
    bob.refresh_from_db()
    assert bob.has_totp
    assert client.get(ME).json()["has_totp"] is True


def test_confirm_without_setup_is_a_conflict(api, bob):
    client = bearer(signed_in(api, "bob")["access"])
    response = post(client, TOTP_CONFIRM, {"code": "123456"})
    assert response.status_code == 409 and error_of(response)["code"] == "totp_not_pending"


def test_setup_is_refused_while_enabled(api, bob, with_totp):
    secret = with_totp(bob)
    client = bearer(signed_in(api, "bob", otp=totp_code(secret))["access"])
    response = post(client, TOTP_SETUP)
    assert response.status_code == 409 and error_of(response)["code"] == "totp_already_enabled"
    bob.refresh_from_db()
    assert bob.totp_secret == secret


def test_login_with_totp(api, bob, with_totp):
    secret = with_totp(bob)
    # A wrong password answers invalid_credentials, never revealing that TOTP is on.
    assert error_of(login(api, "bob", "Wrong-Passw0rd!"))["code"] == "invalid_credentials"
    missing = login(api, "bob")
    assert missing.status_code == 401 and error_of(missing)["code"] == "otp_required"
    wrong = login(api, "bob", otp="000000")
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "otp_invalid"
    key = throttling.pair_prefix("bob") + "127.0.0.1"
    assert LoginThrottle.objects.get(key=key).failures == 2  # wrong password, wrong code
    code = totp_code(secret)
    assert login(api, "bob", otp=code).status_code == 200
    assert not LoginThrottle.objects.filter(key=key).exists()


def test_a_code_cannot_be_replayed(api, bob, with_totp):
    secret = with_totp(bob)
    code = totp_code(secret)
    assert login(api, "bob", otp=code).status_code == 200
    replay = login(api, "bob", otp=code)
    assert error_of(replay)["code"] == "otp_invalid"
    # Nor can an older code from the drift window once a newer one was used.
    assert error_of(login(api, "bob", otp=totp_code(secret, -1)))["code"] == "otp_invalid"


def test_one_step_of_clock_drift_is_accepted(api, bob, with_totp):
    secret = with_totp(bob)
    assert login(api, "bob", otp=totp_code(secret, -1)).status_code == 200
    assert error_of(login(api, "bob", otp=totp_code(secret, -3)))["code"] == "otp_invalid"


def test_wrong_codes_lead_to_lockout(api, bob, with_totp, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 3
    secret = with_totp(bob)
    codes = [error_of(login(api, "bob", otp="000000"))["code"] for _ in range(3)]
    assert codes == ["otp_invalid", "otp_invalid", "account_locked"]
    assert error_of(login(api, "bob", otp=totp_code(secret)))["code"] == "account_locked"


# --- Required per role --------------------------------------------------------------------


def test_role_requiring_totp_without_it_gets_a_restricted_session(api, custodian):
    body = signed_in(api, "custodian")
    assert body["mfa_setup_required"] is True
    session = UserSession.objects.get(pk=body["session_id"])
    assert session.mfa_satisfied is False
    client = bearer(body["access"])
    blocked = client.get(SESSIONS)
    assert blocked.status_code == 403 and error_of(blocked)["code"] == "mfa_setup_required"
    me = client.get(ME)
    assert me.status_code == 200 and me.json()["mfa_setup_required"] is True
    # Set-up and confirmation are reachable and unblock this very session.
    secret = post(client, TOTP_SETUP).json()["secret"]
    assert post(client, TOTP_CONFIRM, {"code": totp_code(secret)}).status_code == 200
    assert client.get(SESSIONS).status_code == 200
    assert client.get(ME).json()["mfa_setup_required"] is False
    assert AuditEvent.objects.filter(action="totp.enabled", actor_id=custodian.pk).exists()


def test_pending_session_can_log_out(api, custodian):
    client = bearer(signed_in(api, "custodian")["access"])
    assert post(client, LOGOUT).status_code == 204


def test_role_requiring_totp_with_it_needs_the_code(api, custodian, with_totp):
    secret = with_totp(custodian)
    assert error_of(login(api, "custodian"))["code"] == "otp_required"
    body = signed_in(api, "custodian", otp=totp_code(secret))
    assert body["mfa_setup_required"] is False
    assert bearer(body["access"]).get(SESSIONS).status_code == 200


def test_requirement_is_read_from_the_database(api, bob, org, settings):
    from api.accounts.models import RoleAssignment
    from tests.personas import Role

    assert signed_in(api, "bob")["mfa_setup_required"] is False
    RoleAssignment.objects.create(user=bob, role=Role.SEAL_CUSTODIAN, unit=org.office)
    assert signed_in(api, "bob")["mfa_setup_required"] is True
    settings.GOVDESK_TOTP_REQUIRED_ROLES = ["leader"]
    assert signed_in(api, "bob")["mfa_setup_required"] is False


# --- Disable ----------------------------------------------------------------------------------


def test_disable_needs_password_and_code(api, bob, with_totp):
    secret = with_totp(bob)
    client = bearer(signed_in(api, "bob", otp=totp_code(secret, -1))["access"])
    wrong_password = post(client, TOTP_DISABLE, {"password": "nope", "code": totp_code(secret)})
    assert wrong_password.status_code == 400
    assert error_of(wrong_password)["code"] == "password_incorrect"
    wrong_code = post(client, TOTP_DISABLE, {"password": PASSWORD, "code": "000000"})
    assert error_of(wrong_code)["code"] == "otp_invalid"
    ok = post(client, TOTP_DISABLE, {"password": PASSWORD, "code": totp_code(secret)})
    assert ok.status_code == 200 and ok.json() == {"has_totp": False}
    bob.refresh_from_db()
    assert not bob.has_totp and bob.totp_secret == ""
    assert login(api, "bob").status_code == 200  # no code needed any more
    assert AuditEvent.objects.filter(action="totp.disabled").count() == 1


def test_disable_is_refused_when_the_role_requires_totp(api, custodian, with_totp):
    secret = with_totp(custodian)
    client = bearer(signed_in(api, "custodian", otp=totp_code(secret, -1))["access"])
    response = post(client, TOTP_DISABLE, {"password": PASSWORD, "code": totp_code(secret)})
    assert response.status_code == 422
    assert error_of(response)["code"] == "totp_required_by_role"
    assert User.objects.get(pk=custodian.pk).has_totp


def test_disable_without_totp_is_a_conflict(api, bob):
    client = bearer(signed_in(api, "bob")["access"])
    response = post(client, TOTP_DISABLE, {"password": PASSWORD, "code": "123456"})
    assert response.status_code == 409 and error_of(response)["code"] == "totp_not_enabled"


def test_secrets_and_codes_never_reach_the_audit_log(api, bob):
    client = bearer(signed_in(api, "bob")["access"])
    secret = post(client, TOTP_SETUP).json()["secret"]
    code = totp_code(secret)
    post(client, TOTP_CONFIRM, {"code": code})
    post(client, TOTP_DISABLE, {"password": PASSWORD, "code": "999999"})
    dump = str(list(AuditEvent.objects.values()))
    assert secret not in dump and code not in dump and "999999" not in dump
    assert {"totp.setup_started", "totp.enabled", "totp.disable_failed"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
