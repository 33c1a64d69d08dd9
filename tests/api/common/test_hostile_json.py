"""Red-team JSON: deep nesting and oversized bodies are clear 4xx, never a 500, and
nothing is written — also on the unauthenticated token endpoints
(docs/security.md#input-handling)."""

from __future__ import annotations

import pytest

from api.accounts.models import LoginThrottle, UserSession
from api.audit.models import AuditEvent
from api.common.parsers import MalformedJson, depth_of, loads
from tests.personas import client_for

pytestmark = pytest.mark.django_db

NESTED = b'{"username": ' + b"[" * 1000 + b"]" * 1000 + b"}"
NESTED_DEEPER = b"[" * 100_000 + b"]" * 100_000
JUST_TOO_DEEP = b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}"


def _post(client, path, body: bytes):
    return client.generic("POST", path, body, content_type="application/json")


@pytest.mark.parametrize("body", [NESTED, NESTED_DEEPER, JUST_TOO_DEEP])
@pytest.mark.parametrize(
    "path", ["/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/token/verify/"]
)
def test_deep_json_to_the_unauthenticated_token_endpoints_is_400(client, path, body):
    events, throttles = AuditEvent.objects.count(), LoginThrottle.objects.count()
    response = _post(client, path, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "malformed_json"
    assert (AuditEvent.objects.count(), LoginThrottle.objects.count()) == (events, throttles)
    assert not UserSession.objects.exists()


def test_deep_json_to_a_signed_in_endpoint_is_400(personas):
    client = client_for(personas["bob"])
    response = _post(client, "/api/v1/documents/", NESTED)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_the_parser_reads_no_more_than_the_limit(settings):
    """Defence in depth behind the Content-Length check: the parser stops at the limit."""
    import io

    from api.common.errors import ApiError
    from api.common.parsers import SafeJSONParser

    settings.GOVDESK_MAX_BODY_BYTES = 2048
    with pytest.raises(ApiError) as refused:
        SafeJSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 4096 + b'"}'))
    assert refused.value.status_code == 413


def test_loads_limits():
    assert depth_of({"a": [1, {"b": []}]}) == 4
    assert loads('{"a": [1, {"b": []}]}') == {"a": [1, {"b": []}]}
    for bad in ("[" * 33 + "]" * 33, "[" * 5000 + "]" * 5000, "NaN", "{"):
        with pytest.raises((MalformedJson, ValueError)):
            loads(bad)


def test_deep_cursor_is_404_not_500(personas):
    import base64

    cursor = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
    response = client_for(personas["bob"]).get(f"/api/v1/tasks/?cursor={cursor}")
    assert response.status_code in (400, 404)
