"""Login: POST /api/v1/auth/token/ (docs/identity.md#login)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone

from api.accounts.models import User, UserSession
from api.accounts.throttling import LoginRateThrottle
from api.audit.models import AuditEvent
from tests.api.accounts.identity.support import ME, TOKEN, bearer, claims, error_of, login, post
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_returns_a_pair_bound_to_a_new_session(api, bob):
    response = login(api, "bob", device_name="华为 Mate 60")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "access",
        "refresh",
        "session_id",
        "user",
        "password_expires_at",
        "mfa_setup_required",
    }
    assert body["user"] == {
        "id": bob.pk,
        "username": "bob",
        "display_name": "bob",
        "title": "",
        "unit": {"id": bob.unit_id, "name": bob.unit.name},
    }
    assert body["mfa_setup_required"] is False
    assert response["Cache-Control"] == "no-store"
    session = UserSession.objects.get(pk=body["session_id"])
    assert session.user == bob and session.device_name == "华为 Mate 60"
    assert session.ip_address == "127.0.0.1" and session.mfa_satisfied
    access, refresh = claims(body["access"]), claims(body["refresh"])
    assert access["sid"] == refresh["sid"] == body["session_id"]
    assert access["uid"] == str(bob.pk) and access["token_type"] == "access"
    assert access["exp"] - access["iat"] <= 5 * 60
    assert session.refresh_jti == refresh["jti"]
    assert bearer(body["access"]).get(ME).status_code == 200


def test_password_expiry_is_reported(api, bob, settings):
    settings.GOVDESK_PASSWORD_MAX_AGE_DAYS = 90
    body = login(api, "bob").json()
    expected = bob.password_changed_at + timedelta(days=90)
    assert datetime.fromisoformat(body["password_expires_at"]) == expected


def test_success_is_audited_without_secrets(api, bob):
    body = login(api, "bob").json()
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor_id == bob.pk and event.result == "success"
    assert event.object_id == body["session_id"]
    dump = str(list(AuditEvent.objects.values()))
    for secret in (PASSWORD, body["access"], body["refresh"]):
        assert secret not in dump


def test_last_login_is_recorded(api, bob):
    login(api, "bob")
    bob.refresh_from_db()
    assert bob.last_login is not None


def _failure_shape(response):
    return response.status_code, response.json(), response.get("WWW-Authenticate")


def test_unknown_user_and_wrong_password_are_indistinguishable(api, bob):
    wrong_password = login(api, "bob", "Wrong-Passw0rd!")
    unknown_user = login(api, "nobody-here", "Wrong-Passw0rd!")
    assert _failure_shape(wrong_password) == _failure_shape(unknown_user)
    assert wrong_password.status_code == 401
    assert error_of(wrong_password)["code"] == "invalid_credentials"


def test_inactive_user_looks_like_a_wrong_password(api, bob):
    User.objects.filter(pk=bob.pk).update(is_active=False)
    inactive = login(api, "bob")
    unknown = login(api, "nobody-here")
    assert _failure_shape(inactive) == _failure_shape(unknown)


def test_english_message_on_request(api, bob):
    response = login(api, "bob", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert error_of(response)["message"] == "The username or password is incorrect."


def test_the_hasher_runs_for_unknown_users_too(api, bob, monkeypatch):
    """Same hashing work whether or not the user exists (no timing oracle). The test
    hasher (MD5) computes one digest per ``encode``; ``verify`` calls ``encode``."""
    digests: list[str] = []
    encode = MD5PasswordHasher.encode

    def counting_encode(self, password, salt):
        digests.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)
    login(api, "bob", "Wrong-Passw0rd!")
    assert digests == ["Wrong-Passw0rd!"]
    digests.clear()
    login(api, "nobody-here", "Wrong-Passw0rd!")
    assert digests == ["Wrong-Passw0rd!"]
    digests.clear()
    User.objects.filter(pk=bob.pk).update(is_active=False)
    login(api, "bob", "Wrong-Passw0rd!")
    assert digests == ["Wrong-Passw0rd!"]


def test_failures_are_audited_with_the_attempted_name(api, bob):
    login(api, "bob", "wrong-password")
    login(api, "ghost", "wrong-password")
    events = list(AuditEvent.objects.filter(action="auth.login_failed").order_by("seq"))
    assert [(e.actor_username, e.result) for e in events] == [
        ("bob", "failed"),
        ("ghost", "failed"),
    ]
    assert events[0].object_id == str(bob.pk)
    assert "wrong-password" not in str([e.detail for e in events])


def test_expired_password_gives_no_tokens(api, bob):
    User.objects.filter(pk=bob.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    response = login(api, "bob")
    assert response.status_code == 403
    assert error_of(response)["code"] == "password_expired"
    assert "access" not in response.json()
    assert not UserSession.objects.filter(user=bob).exists()


def test_expired_answer_needs_the_right_password(api, bob):
    User.objects.filter(pk=bob.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    assert error_of(login(api, "bob", "wrong"))["code"] == "invalid_credentials"


def test_must_change_password_counts_as_expired(api, bob):
    User.objects.filter(pk=bob.pk).update(must_change_password=True)
    assert error_of(login(api, "bob"))["code"] == "password_expired"


def test_max_age_zero_disables_expiry(api, bob, settings):
    settings.GOVDESK_PASSWORD_MAX_AGE_DAYS = 0
    User.objects.filter(pk=bob.pk).update(password_changed_at=timezone.now() - timedelta(days=999))
    response = login(api, "bob")
    assert response.status_code == 200
    assert response.json()["password_expires_at"] is None


def test_login_rate_throttle_scope(api, bob, settings):
    """The DRF throttle (scope ``login``, rate from settings) limits requests per
    client address."""
    assert LoginRateThrottle.scope == "login"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "2/min"},
    }
    address = "127.31.41.59"
    from django.core.cache import cache

    cache.delete(f"throttle_login_{address}")
    for _ in range(2):
        assert login(api, "bob", REMOTE_ADDR=address).status_code == 200
    response = login(api, "bob", REMOTE_ADDR=address)
    assert response.status_code == 429
    assert error_of(response)["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    cache.delete(f"throttle_login_{address}")


def test_a_stale_authorization_header_does_not_block_login(api, bob):
    response = post(
        api, TOKEN, {"username": "bob", "password": PASSWORD}, HTTP_AUTHORIZATION="Bearer x"
    )
    assert response.status_code == 200
