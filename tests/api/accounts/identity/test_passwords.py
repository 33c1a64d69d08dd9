"""Password policy, expiry and the change flows (docs/identity.md#password-policy)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from api.accounts import throttling
from api.accounts.models import LoginThrottle, User, UserSession
from api.accounts.passwords import CharacterClassValidator
from api.audit.models import AuditEvent
from tests.api.accounts.identity.support import (
    ME,
    NEW_PASSWORD,
    PASSWORD_CHANGE,
    bearer,
    error_of,
    login,
    post,
    totp_code,
    wait_for_fresh_time_step,
)
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def expired(bob):
    User.objects.filter(pk=bob.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    return bob


def signed_out_change(api, username="bob", old=PASSWORD, new=NEW_PASSWORD, **extra):
    return post(
        api,
        PASSWORD_CHANGE,
        {"username": username, "old_password": old, "new_password": new, **extra},
    )


# --- Policy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefghijk", False),
        ("abcdefghij1", False),
        ("abcdefghI1", True),
        ("abcdefgh1!", True),
        ("ABCDEFGH1!", True),
        ("密码密码密码密码1A", True),
    ],
)
def test_character_classes(password, ok):
    validator = CharacterClassValidator()
    if ok:
        validator.validate(password)
    else:
        with pytest.raises(ValidationError):
            validator.validate(password)


# --- Signed-out flow (after password_expired) ---------------------------------------------------


def test_expired_user_changes_the_password_and_logs_in(api, expired):
    assert error_of(login(api, "bob"))["code"] == "password_expired"
    response = signed_out_change(api)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "access" not in body and body["sessions_revoked"] == 0
    expired.refresh_from_db()
    assert timezone.now() - expired.password_changed_at < timedelta(minutes=1)
    assert login(api, "bob", NEW_PASSWORD).status_code == 200
    assert error_of(login(api, "bob", PASSWORD))["code"] == "invalid_credentials"


def test_signed_out_change_revokes_every_session(api, bob):
    pairs = [login(api, "bob").json() for _ in range(2)]
    assert signed_out_change(api).json()["sessions_revoked"] == 2
    for pair in pairs:
        assert bearer(pair["access"]).get(ME).status_code == 401
    assert not UserSession.objects.filter(user=bob, revoked_at__isnull=True).exists()


def test_must_change_password_is_cleared(api, bob):
    User.objects.filter(pk=bob.pk).update(must_change_password=True)
    assert signed_out_change(api).status_code == 200
    bob.refresh_from_db()
    assert bob.must_change_password is False


def test_signed_out_change_counts_failures_like_login(api, bob, settings):
    settings.GOVDESK_LOGIN_MAX_FAILURES = 2
    wrong = signed_out_change(api, old="Wrong-Passw0rd!")
    unknown = signed_out_change(api, username="ghost", old="Wrong-Passw0rd!")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error_of(wrong)["code"] == "invalid_credentials"
    assert error_of(signed_out_change(api, old="Wrong-Passw0rd!"))["code"] == "account_locked"
    assert error_of(signed_out_change(api))["code"] == "account_locked"
    assert error_of(login(api, "bob"))["code"] == "account_locked"


def test_weak_new_password_is_refused_with_field_errors(api, expired):
    response = signed_out_change(api, new="short")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    messages = error["fields"]["new_password"]
    assert len(messages) >= 2  # too short, too few character classes
    assert any("10" in m for m in messages)
    english = post(
        api,
        PASSWORD_CHANGE,
        {"username": "bob", "old_password": PASSWORD, "new_password": "short"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert any("at least 10 characters" in m for m in error_of(english)["fields"]["new_password"])
    expired.refresh_from_db()
    assert expired.check_password(PASSWORD)  # nothing half-written


def test_new_password_must_differ(api, expired):
    response = signed_out_change(api, new=PASSWORD)
    assert error_of(response)["code"] == "validation_error"
    assert error_of(response)["fields"]["new_password"]


def test_new_password_must_not_resemble_the_username(api, org):
    from tests.personas import make_user

    make_user("zhangsanfeng", org.office)
    response = signed_out_change(api, username="zhangsanfeng", new="Zhangsanfeng1!")
    assert error_of(response)["code"] == "validation_error"


def test_signed_out_change_needs_the_username(api, bob):
    response = post(api, PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "username" in error_of(response)["fields"]


def test_signed_out_change_needs_the_otp_when_totp_is_on(api, bob, with_totp):
    wait_for_fresh_time_step()
    secret = with_totp(bob)
    assert error_of(signed_out_change(api))["code"] == "otp_required"
    assert error_of(signed_out_change(api, otp="000000"))["code"] == "otp_invalid"
    assert signed_out_change(api, otp=totp_code(secret)).status_code == 200


# --- Signed-in flow -------------------------------------------------------------------------------


def test_signed_in_change_keeps_this_device_with_a_new_pair(api, bob):
    here = login(api, "bob").json()
    other = login(api, "bob").json()
    response = post(
        bearer(here["access"]),
        PASSWORD_CHANGE,
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sessions_revoked"] == 1 and body["session_id"] == here["session_id"]
    assert bearer(body["access"]).get(ME).status_code == 200
    assert bearer(here["access"]).get(ME).status_code == 401  # old stamp
    assert error_of(bearer(other["access"]).get(ME))["code"] == "session_revoked"
    assert response["Cache-Control"] == "no-store"


def test_signed_in_wrong_old_password(api, bob):
    pair = login(api, "bob").json()
    response = post(
        bearer(pair["access"]),
        PASSWORD_CHANGE,
        {"old_password": "Wrong-Passw0rd!", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "password_incorrect"
    assert LoginThrottle.objects.get(key=throttling.username_key("bob")).failures == 1


def test_signed_in_change_of_someone_else_is_refused(api, bob, personas):
    pair = login(api, "bob").json()
    response = post(
        bearer(pair["access"]),
        PASSWORD_CHANGE,
        {"username": "charlie", "old_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "username" in error_of(response)["fields"]
    assert login(api, "charlie").status_code == 200


def test_password_change_is_audited_without_passwords(api, bob):
    pair = login(api, "bob").json()
    login(api, "bob")
    post(
        bearer(pair["access"]),
        PASSWORD_CHANGE,
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    changed = AuditEvent.objects.get(action="auth.password_changed")
    assert changed.actor_id == bob.pk
    assert changed.detail == {"flow": "signed_in", "sessions_revoked": 1}
    revoked = AuditEvent.objects.get(action="session.revoked")
    assert revoked.detail["reason"] == "password_changed"
    dump = str(list(AuditEvent.objects.values()))
    assert PASSWORD not in dump and NEW_PASSWORD not in dump
