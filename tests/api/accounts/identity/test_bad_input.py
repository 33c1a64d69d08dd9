"""Bad input to every identity endpoint: an envelope 400 (or 405/415), never a 500,
and nothing written (docs/identity.md#bad-input)."""

from __future__ import annotations

import json

import pytest

from api.accounts.models import LoginThrottle, UserSession
from api.audit.models import AuditEvent
from tests.personas import PASSWORD, client_for

pytestmark = pytest.mark.django_db

NEW = "N3w!Sturdy-Pass"

# (name, path, signed in?, a valid body, required fields)
ENDPOINTS = [
    (
        "login",
        "/api/v1/auth/token/",
        False,
        {"username": "bob", "password": PASSWORD},
        ["username", "password"],
    ),
    ("refresh", "/api/v1/auth/token/refresh/", False, {"refresh": "x.y.z"}, ["refresh"]),
    ("verify", "/api/v1/auth/token/verify/", False, {"token": "x.y.z"}, ["token"]),
    ("logout", "/api/v1/auth/logout/", True, {"refresh": ""}, []),
    (
        "password_signed_out",
        "/api/v1/auth/password/change/",
        False,
        {"username": "bob", "old_password": PASSWORD, "new_password": NEW},
        ["old_password", "new_password"],
    ),
    (
        "password_signed_in",
        "/api/v1/auth/password/change/",
        True,
        {"old_password": PASSWORD, "new_password": NEW},
        ["old_password", "new_password"],
    ),
    ("totp_setup", "/api/v1/auth/totp/setup/", True, {}, []),
    ("totp_confirm", "/api/v1/auth/totp/confirm/", True, {"code": "123456"}, ["code"]),
    (
        "totp_disable",
        "/api/v1/auth/totp/disable/",
        True,
        {"password": PASSWORD, "code": "123456"},
        ["password", "code"],
    ),
    ("revoke_all", "/api/v1/sessions/revoke-all/", True, {"keep_current": True}, []),
    ("revoke_one", "/api/v1/sessions/{session}/revoke/", True, {}, []),
]
IDS = [e[0] for e in ENDPOINTS]


@pytest.fixture
def call(bob):
    """``call(endpoint, raw_body, content_type)`` → the response; asserts nothing was
    written (no session change, no audit event, no failure counted)."""

    def send(endpoint, raw: str | bytes, content_type: str = "application/json", method="post"):
        _name, path, signed_in, _body, _required = endpoint
        client = client_for(bob if signed_in else None)
        session = UserSession.objects.filter(user=bob).order_by("-created_at").first()
        path = path.format(session=session.pk if session else "0")
        before = (
            list(UserSession.objects.values_list("id", "revoked_at", "refresh_jti")),
            AuditEvent.objects.count(),
            LoginThrottle.objects.count(),
        )
        response = getattr(client, method)(path, data=raw, content_type=content_type)
        after = (
            list(UserSession.objects.values_list("id", "revoked_at", "refresh_jti")),
            AuditEvent.objects.count(),
            LoginThrottle.objects.count(),
        )
        assert response.status_code < 500, response.content
        assert "error" in response.json(), response.content
        assert before == after, "a refused request changed state"
        return response

    return send


def code_of(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_malformed_json(call, endpoint):
    response = call(endpoint, '{"username": ')
    assert response.status_code == 400 and code_of(response) == "malformed_json"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null", "true"])
def test_body_that_is_not_an_object(call, endpoint, raw):
    response = call(endpoint, raw)
    assert response.status_code == 400 and code_of(response) == "validation_error"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_unknown_field(call, endpoint):
    body = {**endpoint[3], "is_admin": True}
    response = call(endpoint, json.dumps(body))
    assert response.status_code == 400 and code_of(response) == "unknown_field"
    assert "is_admin" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e[4]], ids=[e[0] for e in ENDPOINTS if e[4]]
)
def test_missing_fields(call, endpoint):
    for field in endpoint[4]:
        body = {k: v for k, v in endpoint[3].items() if k != field}
        response = call(endpoint, json.dumps(body))
        assert response.status_code == 400 and code_of(response) == "validation_error"
        assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e[3]], ids=[e[0] for e in ENDPOINTS if e[3]]
)
@pytest.mark.parametrize("wrong", [123, 1.5, True, None, [], {"a": 1}, ["x"]])
def test_wrong_types(call, endpoint, wrong):
    for field, valid in endpoint[3].items():
        if type(wrong) is type(valid):
            continue
        body = {**endpoint[3], field: wrong}
        response = call(endpoint, json.dumps(body))
        assert response.status_code == 400, (field, wrong, response.content)
        assert code_of(response) == "validation_error"
        assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e[3]], ids=[e[0] for e in ENDPOINTS if e[3]]
)
def test_huge_strings(call, endpoint):
    for field, value in endpoint[3].items():
        if not isinstance(value, str):
            continue
        body = {**endpoint[3], field: "界" * 100_000}
        response = call(endpoint, json.dumps(body))
        assert response.status_code == 400, (field, response.content[:200])
        assert field in response.json()["error"]["fields"]


def test_keep_current_takes_only_booleans(call):
    endpoint = ENDPOINTS[IDS.index("revoke_all")]
    for wrong in ["yes", "true", 1, 0, "1"]:
        response = call(endpoint, json.dumps({"keep_current": wrong}))
        assert response.status_code == 400 and "keep_current" in response.json()["error"]["fields"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_wrong_content_type(call, endpoint):
    response = call(endpoint, "username=bob&password=x", "application/x-www-form-urlencoded")
    assert response.status_code == 415 and code_of(response) == "unsupported_media_type"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_wrong_method(call, endpoint):
    response = call(endpoint, "", method="put")
    assert response.status_code == 405 and code_of(response) == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/sessions/"])
def test_read_endpoints_refuse_writes(bob, path):
    response = client_for(bob).post(path, data="{}", content_type="application/json")
    assert response.status_code == 405 and code_of(response) == "method_not_allowed"


def test_bad_cursor_is_a_clean_error(bob):
    response = client_for(bob).get("/api/v1/sessions/", {"cursor": "!!!not-a-cursor"})
    assert response.status_code == 404 and code_of(response) == "not_found"
