"""WeCom / DingTalk robot webhook channel against a loopback fake."""

from __future__ import annotations

import pytest

from notifications.channels import Message, Outcome
from notifications.channels.im_webhook import ImWebhookChannel, dingtalk_sign
from notifications.fakes import dingtalk_robot, serve

SECRET = "SEC0123456789abcdef"


def msg(url: str) -> Message:
    return Message(
        recipient=url, title="催办: 请尽快处理", body="文件 A-1 即将到期", idempotency_key="o-1"
    )


def test_dingtalk_sign_known_vector():
    # Recomputed independently: base64(hmac_sha256(secret, "ts\nsecret")).
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(
        hmac.new(b"s", b"1700000000000\ns", hashlib.sha256).digest()
    ).decode()
    assert dingtalk_sign("s", 1700000000000) == expected


def test_dingtalk_signed_markdown_is_accepted():
    with serve(dingtalk_robot(SECRET)) as fake:
        ch = ImWebhookChannel("dingtalk", secret=SECRET, clock_ms=lambda: 1700000000123)
        [result] = ch.send([msg(fake.url + "robot/send?access_token=abc")])
    assert result.ok, result
    req = fake.received[0]
    assert req.query["access_token"] == "abc" and req.query["timestamp"] == "1700000000123"
    body = req.json()
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "催办: 请尽快处理"


def test_dingtalk_wrong_secret_is_permanent():
    with serve(dingtalk_robot(SECRET)) as fake:
        [result] = ImWebhookChannel("dingtalk", secret="wrong").send([msg(fake.url)])
    assert result.outcome is Outcome.PERMANENT_ERROR and result.error_code == "310000"


@pytest.mark.parametrize(
    ("status", "payload", "outcome", "code"),
    [
        (200, {"errcode": 0, "errmsg": "ok"}, Outcome.OK, None),
        (
            200,
            {"errcode": 45009, "errmsg": "api freq out of limit"},
            Outcome.TRANSIENT_ERROR,
            "45009",
        ),
        (
            200,
            {"errcode": 93000, "errmsg": "invalid webhook url"},
            Outcome.PERMANENT_ERROR,
            "93000",
        ),
        (503, {"error": "unavailable"}, Outcome.TRANSIENT_ERROR, "http_503"),
        (404, {"error": "not found"}, Outcome.PERMANENT_ERROR, "http_404"),
    ],
)
def test_wecom_classification(status, payload, outcome, code):
    with serve(lambda req: (status, payload)) as fake:
        [result] = ImWebhookChannel("wecom", msgtype="text").send(
            [msg(fake.url + "cgi-bin/webhook/send?key=k")]
        )
    assert result.outcome is outcome and result.error_code == code
    body = fake.received[0].json()
    assert body == {"msgtype": "text", "text": {"content": "催办: 请尽快处理\n文件 A-1 即将到期"}}
    assert "timestamp" not in fake.received[0].query


def test_connection_refused_is_transient():
    with serve(lambda req: (200, {})) as fake:
        url = fake.url
    [result] = ImWebhookChannel("wecom", timeout=1).send([msg(url)])
    assert result.outcome is Outcome.TRANSIENT_ERROR and result.error_code == "transport"
