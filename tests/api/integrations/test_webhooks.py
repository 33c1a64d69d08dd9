"""Inbound webhooks: HMAC-SHA256 over "<timestamp>.<body>", a 300 s window, each signature
once; refusals audited (docs/integrations.md#signatures)."""

from __future__ import annotations

import json
import time

import pytest
from rest_framework.test import APIClient

from api.audit.models import AuditEvent
from api.integrations.models import Connector, ReceivedRecord
from api.integrations.testing import post_webhook, process_all
from cityfakes.signing import sign, verify
from tests.api.integrations.conftest import SECRET

pytestmark = pytest.mark.django_db
URL = "/api/v1/integrations/sample/events/"


def refusals(reason: str) -> int:
    return AuditEvent.objects.filter(
        action="integrations.webhook_refused", result="denied", detail__reason=reason
    ).count()


def test_a_signed_event_is_stored_and_processed(sample):
    response = post_webhook(APIClient(), "sample", {"id": "W-1", "stage": "accept"}, SECRET)
    assert response.status_code == 202, response.content
    assert response.json() == {"received": 1, "new": 1}
    assert ReceivedRecord.objects.get(connector="sample").payload["stage"] == "accept"
    assert Connector.objects.get(name="sample").last_success_at is not None
    event = AuditEvent.objects.get(action="integrations.webhook_received")
    assert event.detail == {"connector": "sample", "events": 1, "new": 1}
    assert process_all() == 1
    assert sample.applied == {"W-1": 1}


def test_a_batch_with_a_duplicate_stores_each_source_id_once(sample):
    body = {"events": [{"id": "1"}, {"id": "2"}, {"id": "1"}]}
    response = post_webhook(APIClient(), "sample", body, SECRET)
    assert response.json() == {"received": 3, "new": 2}
    again = post_webhook(APIClient(), "sample", {"events": [{"id": "2"}, {"id": "3"}]}, SECRET)
    assert again.json() == {"received": 2, "new": 1}
    assert ReceivedRecord.objects.filter(connector="sample").count() == 3


def test_a_bad_signature_is_refused_and_audited(sample):
    response = post_webhook(APIClient(), "sample", {"id": "X"}, "another-secret")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"
    assert refusals("mismatch") == 1
    assert not ReceivedRecord.objects.exists()


def test_a_body_changed_after_signing_is_refused(sample):
    raw = json.dumps({"id": "X"}).encode()
    headers = sign(SECRET, raw)
    response = APIClient().generic(
        "POST", URL, b'{"id": "Y"}', content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert refusals("mismatch") == 1


def test_missing_or_malformed_headers_are_refused(sample):
    client = APIClient()
    missing = client.generic("POST", URL, b'{"id": "X"}', content_type="application/json")
    assert missing.status_code == 401
    headers = {"X-GovDesk-Timestamp": "12a", "X-GovDesk-Signature": "sha256=00"}
    malformed = client.generic(
        "POST", URL, b'{"id": "X"}', content_type="application/json", headers=headers
    )
    assert malformed.status_code == 401
    assert (refusals("missing"), refusals("malformed")) == (1, 1)


@pytest.mark.parametrize(("offset", "reason"), [(-301, "old"), (301, "future")])
def test_a_timestamp_outside_the_window_is_refused(sample, offset, reason):
    response = post_webhook(
        APIClient(), "sample", {"id": "T"}, SECRET, timestamp=int(time.time()) + offset
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "timestamp_out_of_window"
    assert refusals(reason) == 1


def test_a_replayed_request_is_refused_and_audited(sample):
    raw = json.dumps({"id": "R-1"}).encode()
    headers = sign(SECRET, raw)
    client = APIClient()
    first = client.generic("POST", URL, raw, content_type="application/json", headers=headers)
    assert first.status_code == 202
    second = client.generic("POST", URL, raw, content_type="application/json", headers=headers)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "signature_replayed"
    assert refusals("replayed") == 1
    assert ReceivedRecord.objects.count() == 1


def test_messages_are_bilingual(sample):
    zh = post_webhook(APIClient(), "sample", {"id": "X"}, "wrong")
    en = APIClient(HTTP_ACCEPT_LANGUAGE="en").generic(
        "POST", URL, b"{}", content_type="application/json", headers=sign("wrong", b"{}")
    )
    assert zh.json()["error"]["message"] == "签名无效。"
    assert en.json()["error"]["message"].startswith("The request signature")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"events": {}}',
        b'{"events": [], "x": 1}',
        b'{"events": []}',
        b'{"events": [1]}',
        b'{"events": [{"no_id": 1}]}',
        b'{"id": ""}',
        b'{"id": 5}',
        b'{"id": "1", "x": NaN}',
        b'{"id": "1", "x": "a\\u0000b"}',
        b'{"id": "1", "x": "\\ud800"}',
        b"[" * 100 + b"]" * 100,
        b"\xff\xfe",
    ],
)
def test_strict_parsing(sample, body):
    response = post_webhook(APIClient(), "sample", body, SECRET)
    assert response.status_code == 400, body
    assert response.json()["error"]["code"] in ("malformed_json", "validation_error")
    assert not ReceivedRecord.objects.exists()
    # A refused body does not burn its signature... nor store it: nothing was accepted.


def test_unknown_or_unconfigured_connectors_are_404(sample, monkeypatch):
    assert post_webhook(APIClient(), "nosuch", {"id": "1"}, SECRET).status_code == 404
    monkeypatch.delenv("GOVDESK_INTEGRATION_SAMPLE_SECRET")
    assert post_webhook(APIClient(), "sample", {"id": "1"}, SECRET).status_code == 404
    assert refusals("unknown_or_not_configured") == 2


def test_a_non_json_content_type_is_415(sample):
    raw = b'{"id": "1"}'
    response = APIClient().generic(
        "POST", URL, raw, content_type="text/plain", headers=sign(SECRET, raw)
    )
    assert response.status_code == 415


def test_the_signing_helpers_agree_with_each_other():
    raw = b'{"a": 1}'
    headers = sign("s", raw, 1_700_000_000)
    assert verify("s", raw, headers, now=1_700_000_100) == ""
    assert verify("s", raw, headers, now=1_700_000_301) == "old"
    assert verify("s", raw, headers, now=1_699_999_699) == "future"
    assert verify("t", raw, headers, now=1_700_000_000) == "mismatch"
    assert verify("s", raw, {}, now=1_700_000_000) == "missing"
