"""FCM channel (firebase-admin send_each) against a loopback FCM v1 fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications.channels import Message, Outcome, Urgency
from notifications.channels import fcm as fcm_mod
from notifications.channels.fcm import FcmChannel
from notifications.fakes import serve
from notifications.fakes.fcm import FcmFake, fcm_error


@pytest.fixture
def fake() -> Iterator[FcmFake]:
    f = FcmFake()
    with serve(f) as server:
        f.url = server.url
        yield f


@pytest.fixture
def channel(fake: FcmFake) -> Iterator[FcmChannel]:
    ch = FcmChannel(
        fake.service_account(), fcm_url=fake.url + "v1/projects/{project_id}/messages:send"
    )
    yield ch
    ch.close()


def msg(token: str, urgency: Urgency = Urgency.NORMAL) -> Message:
    return Message(recipient=token, title="待办", body="请审批", idempotency_key=f"o-{token}",
                   data={"task_id": "42"}, urgency=urgency)  # fmt: skip


def test_push_reaches_fake_with_oauth_token(fake, channel):
    [r] = channel.send([msg("tok-1", Urgency.VERY_URGENT)])
    assert r.ok and r.provider_message_id == "projects/govdesk-test/messages/1"
    assert fake.token_requests == 1
    sent = fake.sent[0]
    assert sent["token"] == "tok-1" and sent["notification"] == {"title": "待办", "body": "请审批"}
    assert sent["data"] == {"task_id": "42", "idempotency_key": "o-tok-1"}
    assert sent["android"]["priority"] == "high"


def test_dead_tokens_are_permanent_and_quota_is_transient(fake, channel):
    fake.errors = {
        "gone": fcm_error(404, "NOT_FOUND", "UNREGISTERED"),
        "other": fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
        "bad": fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
        "busy": fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
    }
    ok, gone, other, bad, busy = channel.send(
        [msg(t) for t in ("ok", "gone", "other", "bad", "busy")]
    )
    assert ok.ok
    for r, code in (
        (gone, "UNREGISTERED"),
        (other, "SENDER_ID_MISMATCH"),
        (bad, "INVALID_ARGUMENT"),
    ):
        assert r.outcome is Outcome.PERMANENT_ERROR and r.error_code == code
        assert r.error_code in fcm_mod.DEAD_TOKEN_CODES
    assert busy.outcome is Outcome.TRANSIENT_ERROR and busy.error_code == "QUOTA_EXCEEDED"


def test_batches_are_at_most_500(fake, channel, monkeypatch):
    sizes: list[int] = []
    real = fcm_mod.messaging.send_each

    def spy(messages, **kw):
        sizes.append(len(messages))
        return real(messages, **kw)

    monkeypatch.setattr(fcm_mod.messaging, "send_each", spy)
    results = channel.send([msg(f"t{i}") for i in range(501)])
    assert sizes == [500, 1] and all(r.ok for r in results) and len(fake.sent) == 501


def test_wrong_key_cannot_get_a_token_so_batch_is_transient(fake):
    sa = fake.service_account()
    other = FcmFake()  # a different private key: the fake rejects its JWT
    other.url = fake.url
    sa["private_key"] = other.service_account()["private_key"]
    ch = FcmChannel(sa, fcm_url=fake.url + "v1/projects/{project_id}/messages:send")
    try:
        [r] = ch.send([msg("tok")])
    finally:
        ch.close()
    assert r.transient and fake.sent == []
