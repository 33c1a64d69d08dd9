"""Web Push channel (VAPID + aes128gcm via pywebpush) against the loopback receiver
that verifies the VAPID JWT and decrypts the payload (docs/notifications.md#web-push)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from cryptography.hazmat.primitives import serialization

from notifications.channels import Message, Outcome, RetryPolicy, Urgency, send_with_retry
from notifications.channels import webpush as wp
from notifications.channels.webpush import WebPushChannel, generate_vapid_keys
from notifications.fakes import WebPushReceiver, serve
from notifications.fakes.webpush_receiver import VapidError, verify_vapid_jwt

SUBJECT = "mailto:it@xincheng.gov.example"


@pytest.fixture
def receiver() -> Iterator[WebPushReceiver]:
    rx = WebPushReceiver()
    with serve(rx) as server:
        rx.url = server.url
        yield rx


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_vapid_keys()


@pytest.fixture
def channel(keys) -> Iterator[WebPushChannel]:
    ch = WebPushChannel(keys[0], SUBJECT, timeout=5.0)
    yield ch
    ch.close()


def msg(recipient: str, urgency: Urgency = Urgency.NORMAL, body: str = "请审批", key="o-1"):
    return Message(recipient=recipient, title="新待办", body=body, idempotency_key=key,
                   data={"task_id": "42"}, urgency=urgency)  # fmt: skip


def test_push_is_vapid_signed_encrypted_and_decrypted_by_the_receiver(receiver, channel, keys):
    sub = receiver.subscribe(application_server_key=keys[1])
    [r] = channel.send([msg(sub.json(), Urgency.VERY_URGENT)])
    assert r.ok, r
    [push] = receiver.received
    assert push.json() == {
        "title": "新待办", "body": "请审批", "data": {"task_id": "42"}, "idempotency_key": "o-1",
    }  # fmt: skip
    assert push.claims["aud"] == receiver.url.rstrip("/")  # the origin, no path
    assert push.claims["sub"] == SUBJECT
    assert push.ttl == 3600 and push.urgency == "high"
    assert push.topic == wp.topic_for("o-1") and len(push.topic) <= 32
    assert r.provider_message_id == f"{receiver.url}m/1"
    assert receiver.rejected == []


@pytest.mark.parametrize(
    ("urgency", "ttl", "header"),
    [
        (Urgency.LOW, 3 * 86400, "low"),
        (Urgency.NORMAL, 86400, "normal"),
        (Urgency.HIGH, 12 * 3600, "high"),
        (Urgency.VERY_URGENT, 3600, "high"),
    ],
)
def test_ttl_and_urgency_headers_follow_the_message_urgency(
    receiver, channel, urgency, ttl, header
):
    sub = receiver.subscribe()
    [r] = channel.send([msg(sub.json(), urgency)])
    assert r.ok
    assert (receiver.received[0].ttl, receiver.received[0].urgency) == (ttl, header)


def test_one_result_per_message_in_order(receiver, channel):
    a, b = receiver.subscribe(), receiver.subscribe()
    receiver.unsubscribe(b.id)
    results = channel.send([msg(a.json(), key="k1"), msg(b.json(), key="k2"), msg("{}")])
    assert [r.message.idempotency_key for r in results] == ["k1", "k2", "o-1"]
    assert [r.outcome for r in results] == [
        Outcome.OK, Outcome.PERMANENT_ERROR, Outcome.PERMANENT_ERROR,
    ]  # fmt: skip
    assert results[1].error_code == "subscription_gone"
    assert results[2].error_code == "invalid_subscription"


def test_gone_and_unknown_subscriptions_are_dead(receiver, channel):
    gone = receiver.subscribe()
    receiver.unsubscribe(gone.id)
    unknown = json.loads(receiver.subscribe().json())
    unknown["endpoint"] = receiver.url + "push/never-issued"
    r_gone, r_unknown = channel.send([msg(gone.json()), msg(json.dumps(unknown))])
    for r in (r_gone, r_unknown):
        assert r.permanent and r.error_code == "subscription_gone"
        assert r.error_code in wp.DEAD_SUBSCRIPTION_CODES
    assert [(s, code) for s, code, _ in receiver.rejected] == [
        (gone.id, 410), ("never-issued", 404),
    ]  # fmt: skip


def test_a_different_vapid_key_is_refused_by_the_push_service(receiver, channel):
    other_public = generate_vapid_keys()[1]
    sub = receiver.subscribe(application_server_key=other_public)
    [r] = channel.send([msg(sub.json())])
    assert r.permanent and r.error_code == "vapid_rejected"
    assert receiver.received == [] and receiver.rejected[0][1] == 403


def test_payload_encrypted_to_other_keys_does_not_decrypt(receiver, channel):
    """The receiver really decrypts: keys of another subscription make it fail."""
    target, other = receiver.subscribe(), receiver.subscribe()
    forged = {"endpoint": target.endpoint, "keys": other.info()["keys"]}
    [r] = channel.send([msg(json.dumps(forged))])
    assert r.permanent and r.error_code == "http_400"
    assert "does not decrypt" in receiver.rejected[0][2] and receiver.received == []


def test_throttling_and_server_errors_are_transient_with_retry_after(receiver, channel):
    busy, down = receiver.subscribe(), receiver.subscribe()
    receiver.responses[busy.id] = (429, {}, {"Retry-After": "7"})
    later = formatdate(time.time() + 120, usegmt=True)
    receiver.responses[down.id] = (503, {}, {"Retry-After": later})
    r_busy, r_down = channel.send([msg(busy.json()), msg(down.json())])
    assert r_busy.transient and r_busy.error_code == "http_429" and r_busy.retry_after == 7
    assert r_down.transient and r_down.error_code == "http_503"
    assert r_down.retry_after is not None and 110 <= r_down.retry_after <= 121


def test_send_with_retry_waits_for_the_push_services_hint(receiver, channel):
    sub = receiver.subscribe()
    receiver.responses[sub.id] = (429, {}, {"Retry-After": "5"})
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        receiver.responses.pop(sub.id, None)  # the push service recovers

    [r] = send_with_retry(channel, [msg(sub.json())], RetryPolicy(), sleep=sleep, rand=lambda: 0)
    assert r.ok and r.attempts == 2 and sleeps == [5]
    assert len(receiver.received) == 1


def test_timeout_and_refused_connection_are_transient(keys):
    def slow(_req):
        time.sleep(1.0)
        return 201, None

    rx = WebPushReceiver()
    sub = rx.subscribe()
    ch = WebPushChannel(keys[0], SUBJECT, timeout=0.2)
    try:
        with serve(slow) as server:
            info = sub.info() | {"endpoint": server.url + "push/x"}
            [r] = ch.send([msg(json.dumps(info))])
        assert r.transient and r.error_code == "timeout"
        # The server is gone now: nothing listens on that port.
        [r] = ch.send([msg(json.dumps(info))])
        assert r.transient and r.error_code == "connection_error"
    finally:
        ch.close()


def test_https_is_required_except_on_loopback(receiver, keys):
    sub = receiver.subscribe()
    plain = sub.info() | {"endpoint": "http://push.example/x"}
    strict = WebPushChannel(keys[0], SUBJECT, allow_loopback_http=False)
    try:
        [r_plain] = strict.send([msg(json.dumps(plain))])
        [r_loop] = strict.send([msg(sub.json())])
    finally:
        strict.close()
    for r in (r_plain, r_loop):
        assert r.permanent and r.error_code == "invalid_subscription" and "http" in r.error_detail
    assert receiver.received == []


@pytest.mark.parametrize(
    "recipient",
    [
        "not json",
        "[]",
        '{"endpoint": "https://push.example/x"}',
        '{"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}',
    ],
)
def test_malformed_subscriptions_are_permanent(channel, recipient):
    [r] = channel.send([msg(recipient)])
    assert r.permanent and r.error_code == "invalid_subscription"


def test_a_long_body_is_shortened_to_one_record(receiver, channel):
    sub = receiver.subscribe()
    [r] = channel.send([msg(sub.json(), body="很长的正文" * 600)])
    assert r.ok
    body = receiver.received[0].json()["body"]
    assert body.endswith("…") and len(body) < 3000
    assert len(receiver.received[0].plaintext) <= wp.MAX_PLAINTEXT


def test_vapid_jwt_is_reused_per_origin_and_renewed_before_expiry(keys):
    now = [1_800_000_000.0]
    ch = WebPushChannel(keys[0], SUBJECT, clock=lambda: now[0])
    try:
        first = ch.vapid_headers("https://push.example/a")
        assert ch.vapid_headers("https://push.example/b") == first
        assert ch.vapid_headers("https://other.example/a") != first
        now[0] += wp.VAPID_JWT_SECONDS - wp.VAPID_RENEW_SECONDS + 1
        renewed = ch.vapid_headers("https://push.example/a")
    finally:
        ch.close()
    assert renewed != first
    token, key = renewed["Authorization"].removeprefix("vapid t=").split(",k=")
    claims = verify_vapid_jwt(token, key, "https://push.example", now[0])
    assert claims["exp"] == int(now[0]) + wp.VAPID_JWT_SECONDS
    assert key == ch.public_key == keys[1]


def test_vapid_verifier_refuses_tampering_and_stale_tokens(keys):
    ch = WebPushChannel(keys[0], SUBJECT)
    token, key = ch.vapid_headers("https://push.example/x")["Authorization"][8:].split(",k=")
    ch.close()
    now = time.time()
    assert verify_vapid_jwt(token, key, "https://push.example", now)["sub"] == SUBJECT
    header, claims, sig = token.split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(claims + "=="))
    forged_claims["sub"] = "mailto:attacker@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    cases = [
        (f"{header}.{forged}.{sig}", key, "https://push.example", now, "signature"),
        (token, generate_vapid_keys()[1], "https://push.example", now, "signature"),
        (token, key, "https://other.example", now, "aud"),
        (token, key, "https://push.example", now + 13 * 3600, "exp"),
    ]
    for t, k, aud, at, reason in cases:
        with pytest.raises(VapidError, match=reason):
            verify_vapid_jwt(t, k, aud, at)


def test_private_key_formats_give_the_same_key():
    raw, public = generate_vapid_keys()
    key = wp.load_vapid_private_key(raw)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    der_b64 = base64.urlsafe_b64encode(der).decode()
    assert wp.public_key_of(pem) == wp.public_key_of(der_b64) == wp.public_key_of(raw) == public
    with pytest.raises(ValueError):
        WebPushChannel(raw, "it@xincheng.gov.example")  # not a mailto:/https: subject


def test_a_redirecting_endpoint_is_not_followed(receiver, channel, keys):
    """Any user registers the endpoint, so a redirect would aim the worker's POST at a
    host of their choosing (an intranet one). It is refused, permanently."""
    target = receiver.subscribe(application_server_key=keys[1])
    trap = receiver.subscribe(application_server_key=keys[1])
    receiver.responses[trap.id] = (307, None, {"Location": target.endpoint})
    [r] = channel.send([msg(trap.json())])
    assert r.permanent and r.error_code == "endpoint_redirected"
    # Nothing reached the redirect's target (following it would have been refused
    # there as undecryptable, or accepted: either would show here).
    assert receiver.received == [] and receiver.rejected == []
