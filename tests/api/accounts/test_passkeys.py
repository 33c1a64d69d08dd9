"""Passkeys (WebAuthn): registration, list, delete, sign-in — against the server's real
py_webauthn verification, with a software authenticator (tests/softauthn.py).

Docs: docs/identity.md#passkeys-webauthn.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.accounts.models import LoginThrottle, Passkey, User, UserSession
from api.audit.models import AuditEvent
from tests.personas import PASSWORD, client_for
from tests.softauthn import SoftAuthenticator

pytestmark = pytest.mark.django_db

OPTIONS = "/api/v1/me/passkeys/registration-options/"
PASSKEYS = "/api/v1/me/passkeys/"
REAUTH = "/api/v1/me/passkeys/reauth-options/"
LOGIN_OPTIONS = "/api/v1/auth/passkey/options/"
LOGIN = "/api/v1/auth/passkey/"


def signed_in() -> int:
    """Sessions opened by a sign-in (client_for's are named "test")."""
    return UserSession.objects.exclude(device_name="test").count()


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("seq"))


def start_registration(client: APIClient) -> tuple[dict, str]:
    response = client.post(OPTIONS, {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["options"], body["challenge_id"]


def register(client: APIClient, authenticator: SoftAuthenticator, name: str = "我的手机", **knobs):
    options, challenge_id = start_registration(client)
    credential = authenticator.create(options, **knobs)
    return client.post(
        PASSKEYS,
        {"challenge_id": challenge_id, "credential": credential, "name": name},
        format="json",
    )


@pytest.fixture
def bob(personas) -> User:
    return personas["bob"]


@pytest.fixture
def bob_client(bob) -> APIClient:
    return client_for(bob)


@pytest.fixture
def bob_key(bob_client) -> SoftAuthenticator:
    """Bob's registered passkey (the authenticator that holds it)."""
    authenticator = SoftAuthenticator()
    response = register(bob_client, authenticator)
    assert response.status_code == 201, response.content
    return authenticator


def login_options(client: APIClient | None = None) -> tuple[dict, str]:
    response = (client or APIClient()).post(LOGIN_OPTIONS, {}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["options"], response.json()["challenge_id"]


def passkey_login(authenticator: SoftAuthenticator, device_name: str = "iPhone 15", **knobs):
    options, challenge_id = login_options()
    credential = authenticator.get(options, **knobs)
    return APIClient().post(
        LOGIN,
        {"challenge_id": challenge_id, "credential": credential, "device_name": device_name},
        format="json",
    )


# --- Registration ---------------------------------------------------------------------------


def test_registration_options_ask_for_a_discoverable_user_verified_credential(bob_client, bob):
    options, challenge_id = start_registration(bob_client)
    assert options["rp"] == {"id": "localhost", "name": "协同办公 GovDesk"}
    assert options["user"]["name"] == "bob"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert len(challenge_id) >= 20


def test_register_stores_the_public_key_and_answers_the_contract_shape(bob_client, bob):
    authenticator = SoftAuthenticator(backup_eligible=True)
    response = register(bob_client, authenticator, name="工作手机")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "created_at", "last_used_at"}
    assert body["name"] == "工作手机" and body["last_used_at"] is None
    passkey = Passkey.objects.get(pk=body["id"])
    assert passkey.user == bob
    assert passkey.credential_id == authenticator.id
    assert bytes(passkey.public_key) == authenticator.cose_key()
    assert passkey.sign_count == 0
    assert passkey.aaguid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert passkey.transports == ["internal", "hybrid"]
    assert passkey.backup_eligible and passkey.backed_up
    assert bytes(passkey.user_handle) == authenticator.user_handle
    (event,) = events("passkey.registered")
    assert event.actor_id == bob.pk and event.detail["passkey_id"] == passkey.pk


def test_second_registration_excludes_the_first_and_reuses_the_user_handle(bob_client, bob_key):
    options, _ = start_registration(bob_client)
    assert [c["id"] for c in options["excludeCredentials"]] == [bob_key.id]
    second = SoftAuthenticator()
    assert register(bob_client, second).status_code == 201
    assert second.user_handle == bob_key.user_handle


@pytest.mark.parametrize(
    ("knobs", "reason"),
    [
        ({"origin": "https://evil.example"}, "wrong origin"),
        ({"rp_id": "evil.example"}, "wrong RP ID"),
        ({"uv": False}, "no user verification"),
    ],
)
def test_registration_is_refused_when_the_attestation_does_not_verify(
    bob_client, bob, knobs, reason
):
    response = register(bob_client, SoftAuthenticator(), **knobs)
    assert response.status_code == 400, reason
    assert response.json()["error"]["code"] == "passkey_registration_failed"
    assert not Passkey.objects.exists()
    (event,) = events("passkey.register_failed")
    assert event.result == "denied" and event.detail["reason"] == "registration_invalid"


def test_a_registration_challenge_is_single_use(bob_client):
    options, challenge_id = start_registration(bob_client)
    first = SoftAuthenticator()
    body = {"challenge_id": challenge_id, "credential": first.create(options), "name": "a"}
    assert bob_client.post(PASSKEYS, body, format="json").status_code == 201
    again = {"challenge_id": challenge_id, "credential": SoftAuthenticator().create(options)}
    response = bob_client.post(PASSKEYS, again, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "passkey_registration_failed"
    assert Passkey.objects.count() == 1
    assert events("passkey.register_failed")[0].detail["reason"] == "challenge_unknown"


def test_a_registration_challenge_is_bound_to_its_user_and_session(bob, personas):
    issued_to = client_for(bob)
    options, challenge_id = start_registration(issued_to)
    for other in (client_for(personas["alice"]), client_for(bob)):  # another user; another session
        fresh_options, fresh_id = start_registration(issued_to)
        body = {"challenge_id": fresh_id, "credential": SoftAuthenticator().create(fresh_options)}
        response = other.post(PASSKEYS, body, format="json")
        assert response.status_code == 400
    reasons = [e.detail["reason"] for e in events("passkey.register_failed")]
    assert reasons == ["challenge_user", "challenge_session"]
    assert not Passkey.objects.exists()
    # The one never misused still works for its own session.
    body = {"challenge_id": challenge_id, "credential": SoftAuthenticator().create(options)}
    assert issued_to.post(PASSKEYS, body, format="json").status_code == 201


def test_an_expired_registration_challenge_is_refused(bob_client, monkeypatch):
    options, challenge_id = start_registration(bob_client)
    later = timezone.now() + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr("api.accounts.passkeys.timezone.now", lambda: later)
    body = {"challenge_id": challenge_id, "credential": SoftAuthenticator().create(options)}
    assert bob_client.post(PASSKEYS, body, format="json").status_code == 400
    assert events("passkey.register_failed")[0].detail["reason"] == "challenge_expired"


def test_the_same_authenticator_cannot_be_registered_twice(bob_client, personas, bob_key):
    alice = client_for(personas["alice"])
    options, challenge_id = start_registration(alice)
    body = {"challenge_id": challenge_id, "credential": bob_key.create(options)}
    response = alice.post(PASSKEYS, body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "passkey_already_registered"
    assert Passkey.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"challenge_id": "x" * 30, "credential": "not an object"},
        {"challenge_id": "x" * 30, "credential": {"id": 1, "response": []}},
        {"challenge_id": 5, "credential": {}},
        {"challenge_id": "x" * 30, "credential": {}, "extra": 1},
    ],
)
def test_garbage_registrations_are_4xx_never_500(bob_client, body):
    response = bob_client.post(PASSKEYS, body, format="json")
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]


# --- List and delete ------------------------------------------------------------------------


def test_list_shows_only_my_passkeys_newest_first(bob_client, bob_key, personas):
    assert register(bob_client, SoftAuthenticator(), name="备用钥匙").status_code == 201
    assert register(client_for(personas["alice"]), SoftAuthenticator()).status_code == 201
    names = [p["name"] for p in bob_client.get(PASSKEYS).json()["results"]]
    assert names == ["备用钥匙", "我的手机"]


def test_list_query_count_does_not_grow_with_passkeys(
    bob, bob_client, django_assert_max_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            key = SoftAuthenticator()
            Passkey.objects.create(
                user=bob,
                credential_id=key.id,
                public_key=key.cose_key(),
                user_handle=b"h" * 32,
                name="k",
            )

    add(1)
    with django_assert_max_num_queries(2):  # authentication, the page
        assert len(bob_client.get(PASSKEYS).json()["results"]) == 1
    add(15)
    with django_assert_max_num_queries(2):
        assert len(bob_client.get(PASSKEYS).json()["results"]) == 16


def test_delete_needs_the_password_or_a_passkey(bob_client, bob_key, bob):
    passkey = Passkey.objects.get(user=bob)
    url = f"{PASSKEYS}{passkey.pk}/"
    response = bob_client.delete(url, {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reauthentication_required"
    response = bob_client.delete(url, {"password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "password_incorrect"
    # account from this address, account everywhere, address
    assert LoginThrottle.objects.filter(failures=1).count() == 3
    assert events("passkey.delete_failed")[0].detail["reason"] == "bad_password"
    assert bob_client.delete(url, {"password": PASSWORD}, format="json").status_code == 204
    assert not Passkey.objects.exists()
    (event,) = events("passkey.deleted")
    assert event.detail["confirmed_by"] == "password"


def test_delete_with_a_fresh_passkey_assertion(bob_client, bob_key, bob, personas):
    spare = SoftAuthenticator()
    assert register(bob_client, spare).status_code == 201
    target = Passkey.objects.get(credential_id=spare.id)
    options = bob_client.post(REAUTH, {}, format="json").json()
    assert {c["id"] for c in options["options"]["allowCredentials"]} == {bob_key.id, spare.id}
    assert options["options"]["userVerification"] == "required"
    body = {
        "webauthn": {
            "challenge_id": options["challenge_id"],
            "credential": bob_key.get(options["options"]),
        }
    }
    assert bob_client.delete(f"{PASSKEYS}{target.pk}/", body, format="json").status_code == 204
    assert list(Passkey.objects.values_list("credential_id", flat=True)) == [bob_key.id]
    assert events("passkey.deleted")[0].detail["confirmed_by"] == "passkey"
    assert Passkey.objects.get().sign_count == 1


def test_delete_refuses_another_users_credential_as_the_confirmation(
    bob_client, bob_key, bob, personas
):
    alice = client_for(personas["alice"])
    alice_key = SoftAuthenticator()
    assert register(alice, alice_key).status_code == 201
    passkey = Passkey.objects.get(user=bob)
    options = bob_client.post(REAUTH, {}, format="json").json()
    # Alice's authenticator signs Bob's challenge: a valid assertion, not Bob's passkey.
    body = {
        "webauthn": {
            "challenge_id": options["challenge_id"],
            "credential": alice_key.get(options["options"]),
        }
    }
    response = bob_client.delete(f"{PASSKEYS}{passkey.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "passkey_invalid"
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    assert events("passkey.delete_failed")[0].detail["reason"] == "credential_not_owned"


def test_another_users_passkey_is_not_found_and_the_attempt_recorded(bob_key, bob, personas):
    passkey = Passkey.objects.get(user=bob)
    alice = client_for(personas["alice"])
    response = alice.delete(f"{PASSKEYS}{passkey.pk}/", {"password": PASSWORD}, format="json")
    assert response.status_code == 404
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    (event,) = events("passkey.delete")
    assert event.result == "denied" and event.actor_id == personas["alice"].pk


# --- Sign-in with a passkey -----------------------------------------------------------------


def test_login_options_are_for_discoverable_credentials():
    options, _ = login_options()
    assert options["rpId"] == "localhost"
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"


def test_passkey_login_answers_like_the_password_login(bob_key, bob):
    response = passkey_login(bob_key)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    password_login = APIClient().post(
        "/api/v1/auth/token/", {"username": "bob", "password": PASSWORD}, format="json"
    )
    assert set(body) == set(password_login.json())
    assert body["user"]["username"] == "bob" and body["mfa_setup_required"] is False
    session = UserSession.objects.get(pk=body["session_id"])
    assert session.user == bob and session.device_name == "iPhone 15" and session.mfa_satisfied
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert client.get("/api/v1/me/").json()["session_id"] == body["session_id"]
    passkey = Passkey.objects.get(user=bob)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    event = events("auth.login", actor_id=bob.pk)[0]  # the passkey one came first
    assert event.detail["method"] == "passkey" and event.detail["passkey_id"] == passkey.pk


def test_a_passkey_satisfies_the_totp_requirement_of_a_role(personas):
    ivy = personas["ivy"]  # city IT admin: the role requires TOTP; ivy has none
    key = SoftAuthenticator()
    assert register(client_for(ivy), key).status_code == 201
    body = passkey_login(key).json()
    assert body["mfa_setup_required"] is False
    assert UserSession.objects.get(pk=body["session_id"]).mfa_satisfied
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert client.get("/api/v1/sessions/").status_code == 200  # not 403 mfa_setup_required


@pytest.mark.parametrize(
    ("knobs", "reason"),
    [
        ({"origin": "https://evil.example"}, "passkey_assertion_invalid"),
        ({"rp_id": "evil.example"}, "passkey_assertion_invalid"),
        ({"uv": False}, "passkey_assertion_invalid"),
    ],
)
def test_login_refuses_what_does_not_verify(bob_key, bob, knobs, reason):
    response = passkey_login(bob_key, **knobs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "passkey_invalid"
    assert signed_in() == 0
    (event,) = events("auth.login_failed")
    assert event.detail["reason"] == reason and event.object_id == str(bob.pk)


def test_login_refuses_a_forged_signature(bob_key):
    response = passkey_login(bob_key, signer=SoftAuthenticator())
    assert response.status_code == 401
    assert signed_in() == 0


def test_login_challenge_is_single_use(bob_key):
    options, challenge_id = login_options()
    body = {"challenge_id": challenge_id, "credential": bob_key.get(options)}
    assert APIClient().post(LOGIN, body, format="json").status_code == 200
    body = {"challenge_id": challenge_id, "credential": bob_key.get(options)}
    response = APIClient().post(LOGIN, body, format="json")
    assert response.status_code == 401
    assert events("auth.login_failed")[0].detail["reason"] == "passkey_challenge_unknown"
    assert signed_in() == 1


def test_a_step_up_or_registration_challenge_cannot_sign_in(bob_client, bob_key):
    options = bob_client.post(REAUTH, {}, format="json").json()
    body = {
        "challenge_id": options["challenge_id"],
        "credential": bob_key.get(options["options"]),
    }
    response = APIClient().post(LOGIN, body, format="json")
    assert response.status_code == 401
    assert events("auth.login_failed")[0].detail["reason"] == "passkey_challenge_purpose"


def test_counter_regression_is_refused_as_a_cloned_authenticator(bob_key, bob):
    assert passkey_login(bob_key).status_code == 200
    assert passkey_login(bob_key).status_code == 200  # counter 2
    response = passkey_login(bob_key, counter=2)  # the clone's counter lags behind
    assert response.status_code == 401
    (clone,) = events("passkey.clone_suspected")
    assert clone.result == "denied" and clone.detail["stored_sign_count"] == 2
    assert events("auth.login_failed")[0].detail["reason"] == "passkey_sign_count_regression"
    assert Passkey.objects.get().sign_count == 2


def test_losing_the_counter_race_is_refused_counted_and_recorded(bob_key, bob, monkeypatch):
    """Two sign-ins verified against the same stored counter: only the first moves it
    (compare-and-set); the other is a refusal like any other — 401, a failure that
    counts towards the lockout, and an ``auth.login_failed`` record — not a silent 401."""
    from api.accounts import passkeys as webauthn

    real = webauthn.verify_assertion

    def verify_then_lose_the_race(parsed, challenge, passkey):
        verified = real(parsed, challenge, passkey)
        # The concurrent sign-in stores the same new counter first.
        Passkey.objects.filter(pk=passkey.pk).update(sign_count=verified.sign_count)
        return verified

    monkeypatch.setattr(webauthn, "verify_assertion", verify_then_lose_the_race)
    response = passkey_login(bob_key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "passkey_invalid"
    assert signed_in() == 0
    (failed,) = events("auth.login_failed")
    assert failed.detail["reason"] == "passkey_sign_count_race"
    assert failed.actor_username == "bob"
    assert LoginThrottle.objects.get(key__startswith="user:").failures == 1


def test_an_unknown_credential_counts_against_the_address_only():
    response = passkey_login(SoftAuthenticator())
    assert response.status_code == 401
    assert list(LoginThrottle.objects.values_list("key", "failures")) == [("addr:127.0.0.1", 1)]
    assert events("auth.login_failed")[0].detail["reason"] == "passkey_credential_unknown"


@override_settings(GOVDESK_LOGIN_MAX_FAILURES=3)
def test_failures_lock_the_account_like_password_failures(bob_key):
    for _ in range(2):
        assert passkey_login(bob_key, uv=False).status_code == 401
    response = passkey_login(bob_key, uv=False)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "account_locked"
    # Locked: even a perfect assertion, and the password, are refused now.
    assert passkey_login(bob_key).status_code == 429
    password = APIClient().post(
        "/api/v1/auth/token/", {"username": "bob", "password": PASSWORD}, format="json"
    )
    assert password.status_code == 429


def test_a_deactivated_user_cannot_sign_in_with_a_passkey(bob_key, bob):
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert passkey_login(bob_key).status_code == 401
    assert events("auth.login_failed")[0].detail["reason"] == "passkey_user_inactive"


def test_an_expired_password_still_stops_a_passkey_sign_in(bob_key, bob):
    User.objects.filter(pk=bob.pk).update(must_change_password=True)
    response = passkey_login(bob_key)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "password_expired"
    assert signed_in() == 0


def test_a_user_handle_of_another_account_is_refused(bob_key):
    bob_key.user_handle = b"x" * 32
    assert passkey_login(bob_key).status_code == 401
    assert events("auth.login_failed")[0].detail["reason"] == "passkey_user_handle_mismatch"


def test_no_secret_reaches_the_audit_log(bob_key):
    options, challenge_id = login_options()
    credential = bob_key.get(options)
    APIClient().post(LOGIN, {"challenge_id": challenge_id, "credential": credential}, format="json")
    dump = str(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert challenge_id not in dump
    assert credential["response"]["signature"] not in dump
    assert options["challenge"] not in dump


def test_a_session_owing_its_totp_setup_cannot_register_a_passkey(personas):
    from api.accounts.tokens import issue_tokens, open_session

    ivy = personas["ivy"]  # the role requires TOTP; this session has not satisfied it
    pair = issue_tokens(ivy, open_session(ivy, device_name="pending", mfa_satisfied=False))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    response = client.post(OPTIONS, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_setup_required"


@pytest.mark.parametrize("port", [8000, 8080, 8112])
def test_passkeys_sign_in_and_step_up_on_the_demo_port(bob_client, bob, port):
    """The demo's origins for GOVDESK_PORT (scripts/demo.py passkey_origins): a passkey
    registered and used at http://localhost:<port> verifies; another port does not."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "scripts" / "demo.py"
    spec = importlib.util.spec_from_file_location("govdesk_demo_launcher", path)
    assert spec is not None and spec.loader is not None
    demo = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = demo
        spec.loader.exec_module(demo)
    origin = f"http://localhost:{port}"
    with override_settings(GOVDESK_WEBAUTHN_ORIGINS=demo.passkey_origins(port).split(",")):
        authenticator = SoftAuthenticator()
        assert register(bob_client, authenticator, origin=origin).status_code == 201
        signed = passkey_login(authenticator, origin=origin)
        assert signed.status_code == 200, signed.content
        wrong = passkey_login(authenticator, origin=f"http://localhost:{port + 1}")
        assert wrong.status_code == 401, wrong.content
        # Step-up: a fresh assertion confirming a sensitive change (the same verification
        # as the passkey-confirmed approval, api/accounts/passkeys.py).
        spare = SoftAuthenticator()
        assert register(bob_client, spare, origin=origin).status_code == 201
        options = bob_client.post(REAUTH, {}, format="json").json()
        body = {
            "webauthn": {
                "challenge_id": options["challenge_id"],
                "credential": authenticator.get(options["options"], origin=origin),
            }
        }
        target = Passkey.objects.get(credential_id=spare.id)
        assert bob_client.delete(f"{PASSKEYS}{target.pk}/", body, format="json").status_code == 204
        assert events("passkey.deleted")[0].detail["confirmed_by"] == "passkey"
