"""Tokens: lifetimes, rotation, blacklist, session binding, and hostile tokens
(docs/identity.md#tokens)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken

from api.accounts.models import User, UserSession
from api.accounts.tokens import issue_tokens, open_session
from tests.api.accounts.identity.support import (
    LOGOUT,
    ME,
    REFRESH,
    VERIFY,
    bearer,
    claims,
    error_of,
    login,
    post,
)
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(api, bob) -> dict:
    return login(api, "bob").json()


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_token_invalid(response):
    assert response.status_code == 401, response.content
    assert error_of(response)["code"] == "token_invalid"


# --- Settings ---------------------------------------------------------------------------


def test_lifetimes_and_rotation_settings():
    jwt_settings = settings.SIMPLE_JWT
    assert jwt_settings["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=5)
    assert jwt_settings["ROTATE_REFRESH_TOKENS"] is True
    assert jwt_settings["BLACKLIST_AFTER_ROTATION"] is True
    assert "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS


def test_refresh_token_never_outlives_its_session(bob):
    session = open_session(bob)
    session.expires_at = timezone.now() + timedelta(minutes=30)
    session.save()
    refresh = issue_tokens(bob, session).refresh
    assert claims(refresh)["exp"] <= int(session.expires_at.timestamp())


# --- Refresh and rotation ---------------------------------------------------------------


def test_refresh_rotates_and_blacklists_the_old_token(api, pair):
    response = post(api, REFRESH, {"refresh": pair["refresh"]})
    assert response.status_code == 200, response.content
    new = response.json()
    assert new["session_id"] == pair["session_id"]
    assert new["refresh"] != pair["refresh"] and new["access"] != pair["access"]
    assert BlacklistedToken.objects.filter(token__jti=claims(pair["refresh"])["jti"]).exists()
    assert (
        UserSession.objects.get(pk=pair["session_id"]).refresh_jti == claims(new["refresh"])["jti"]
    )
    assert bearer(new["access"]).get(ME).status_code == 200
    # The old refresh token is spent.
    assert_token_invalid(post(api, REFRESH, {"refresh": pair["refresh"]}))


def test_a_rotated_refresh_token_can_be_revoked(api, pair):
    """Regression: the token issued by rotation is outstanding, so it can be blacklisted."""
    rotated = post(api, REFRESH, {"refresh": pair["refresh"]}).json()
    assert (
        post(bearer(rotated["access"]), LOGOUT, {"refresh": rotated["refresh"]}).status_code == 204
    )
    jti = claims(rotated["refresh"])["jti"]
    assert BlacklistedToken.objects.filter(token__jti=jti).exists()
    assert_token_invalid(post(api, REFRESH, {"refresh": rotated["refresh"]}))


def test_a_blacklisted_token_fails_verify(api, pair):
    assert post(api, VERIFY, {"token": pair["refresh"]}).status_code == 200
    post(api, REFRESH, {"refresh": pair["refresh"]})  # rotation blacklists it
    assert_token_invalid(post(api, VERIFY, {"token": pair["refresh"]}))


def test_verify_reports_a_good_token(api, pair):
    response = post(api, VERIFY, {"token": pair["access"]})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "access" and body["session_id"] == pair["session_id"]


def test_refresh_fails_after_logout(api, pair):
    post(bearer(pair["access"]), LOGOUT)
    assert_token_invalid(post(api, REFRESH, {"refresh": pair["refresh"]}))
    assert_token_invalid(post(api, VERIFY, {"token": pair["refresh"]}))


def test_refresh_fails_when_the_session_was_revoked(api, pair):
    UserSession.objects.filter(pk=pair["session_id"]).update(revoked_at=timezone.now())
    response = post(api, REFRESH, {"refresh": pair["refresh"]})
    assert response.status_code == 401
    assert error_of(response)["code"] == "session_revoked"


def test_refresh_fails_when_the_session_expired(api, pair):
    UserSession.objects.filter(pk=pair["session_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert error_of(post(api, REFRESH, {"refresh": pair["refresh"]}))["code"] == "session_revoked"


def test_refresh_fails_when_the_user_is_deactivated(api, pair, bob):
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert_token_invalid(post(api, REFRESH, {"refresh": pair["refresh"]}))
    assert_token_invalid(bearer(pair["access"]).get(ME))


def test_refresh_fails_after_a_password_change(api, pair, bob):
    bob.set_password("An0ther!Password")
    bob.save()
    assert_token_invalid(post(api, REFRESH, {"refresh": pair["refresh"]}))
    assert_token_invalid(bearer(pair["access"]).get(ME))
    assert_token_invalid(post(api, VERIFY, {"token": pair["access"]}))


def test_access_token_is_not_a_refresh_token(api, pair):
    assert_token_invalid(post(api, REFRESH, {"refresh": pair["access"]}))
    assert_token_invalid(bearer(pair["refresh"]).get(ME))


def test_refresh_updates_last_seen(api, pair):
    UserSession.objects.filter(pk=pair["session_id"]).update(
        last_seen_at=timezone.now() - timedelta(hours=1)
    )
    post(api, REFRESH, {"refresh": pair["refresh"]})
    seen = UserSession.objects.get(pk=pair["session_id"]).last_seen_at
    assert timezone.now() - seen < timedelta(minutes=1)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_refreshes_with_one_token_cannot_both_win(org):
    from tests.personas import make_user

    user = make_user("racer", org.office)
    refresh = issue_tokens(user, open_session(user)).refresh
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def refresh_once():
        try:
            barrier.wait()
            statuses.append(post(APIClient(), REFRESH, {"refresh": refresh}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401]


# --- Revocation takes effect at the next request -------------------------------------------


def test_revoked_session_stops_its_access_token(pair):
    client = bearer(pair["access"])
    assert client.get(ME).status_code == 200
    UserSession.objects.filter(pk=pair["session_id"]).update(revoked_at=timezone.now())
    response = client.get(ME)
    assert response.status_code == 401
    assert error_of(response)["code"] == "session_revoked"
    assert response.has_header("WWW-Authenticate")


# --- Hostile tokens: always 401 token_invalid, never 500 ------------------------------------


def _hostile_tokens(pair: dict) -> dict[str, str]:
    header, payload, signature = pair["access"].split(".")
    body = claims(pair["access"])
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    now = int(timezone.now().timestamp())
    no_sid = {k: v for k, v in body.items() if k != "sid"}
    return {
        "tampered_payload": ".".join([header, _b64({**body, "uid": "1"}), signature]),
        "tampered_signature": ".".join([header, payload, signature[::-1]]),
        "alg_none": ".".join([_b64({"alg": "none", "typ": "JWT"}), payload, ""]),
        "alg_none_signed_jwt": jwt.encode(body, None, algorithm="none"),
        "other_key": jwt.encode(body, "another-key-" + "x" * 40, algorithm="HS256"),
        "expired": jwt.encode({**body, "iat": now - 900, "exp": now - 600}, key, algorithm="HS256"),
        "missing_sid": jwt.encode(no_sid, key, algorithm="HS256"),
        "malformed_sid": jwt.encode({**body, "sid": "not-a-uuid"}, key, algorithm="HS256"),
        "numeric_sid": jwt.encode({**body, "sid": 12345}, key, algorithm="HS256"),
        "unknown_sid": jwt.encode({**body, "sid": str(uuid.uuid4())}, key, algorithm="HS256"),
        "bad_uid": jwt.encode({**body, "uid": "robert'); DROP"}, key, algorithm="HS256"),
        "missing_uid": jwt.encode(
            {k: v for k, v in body.items() if k != "uid"}, key, algorithm="HS256"
        ),
        "hs512": jwt.encode(body, key, algorithm="HS512"),
        # Signed with the key, but living ten years: refused at validation.
        "ten_year_lifetime": jwt.encode(
            {**body, "iat": now, "exp": now + 10 * 365 * 24 * 3600}, key, algorithm="HS256"
        ),
        "no_issue_time": jwt.encode(
            {k: v for k, v in body.items() if k != "iat"}, key, algorithm="HS256"
        ),
        "garbage": "not.a.token",
        "empty_parts": "..",
        "unicode": "令牌.令牌.令牌",
    }


HOSTILE = [
    "tampered_payload",
    "tampered_signature",
    "alg_none",
    "alg_none_signed_jwt",
    "other_key",
    "expired",
    "missing_sid",
    "malformed_sid",
    "numeric_sid",
    "unknown_sid",
    "bad_uid",
    "missing_uid",
    "hs512",
    "ten_year_lifetime",
    "no_issue_time",
    "garbage",
    "empty_parts",
    "unicode",
]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_access_tokens_are_401_token_invalid(api, pair, kind):
    token = _hostile_tokens(pair)[kind]
    assert_token_invalid(bearer(token).get(ME))
    assert_token_invalid(post(api, VERIFY, {"token": token}))


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_refresh_tokens_are_401_token_invalid(api, pair, kind):
    refresh_pair = {"access": pair["refresh"]}
    token = _hostile_tokens(refresh_pair)[kind]
    assert_token_invalid(post(api, REFRESH, {"refresh": token}))


def test_token_of_another_users_session_is_refused(pair, personas):
    """A valid signature with a sid that belongs to someone else."""
    other = open_session(personas["charlie"])
    token = AccessToken()
    token["uid"] = str(personas["bob"].pk)
    token["sid"] = str(other.pk)
    token["pwd"] = claims(pair["access"])["pwd"]
    assert_token_invalid(bearer(str(token)).get(ME))


def test_bearer_header_with_extra_parts_is_401(api):
    response = api.get(ME, HTTP_AUTHORIZATION="Bearer a b")
    assert response.status_code == 401
    assert error_of(response)["code"] == "token_invalid"
