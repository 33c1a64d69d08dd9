"""Office-IM group-robot webhook channel: WeCom and DingTalk (docs/notifications.md).

Both robots take a JSON POST of a ``text`` or ``markdown`` message and answer
``{"errcode": 0, "errmsg": "ok"}``. DingTalk robots with "加签" security add
``timestamp`` (ms) and ``sign`` to the URL, where ``sign`` is
``urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``.

The message ``recipient`` is the robot's webhook URL (one group = one address).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from notifications.channels import transport
from notifications.channels.base import Message, Result, describe

# Robot errcodes that mean "try again later"; everything else non-zero is permanent.
# WeCom: -1 system busy, 45009 API frequency limit, 45033 concurrency limit.
# DingTalk: -1 system busy, 130101 sent too fast (20 msgs/min per robot), 410100 flow limit.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45033, 130101, 410100})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's ``sign`` value (base64, not yet URL-encoded)."""

    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, timestamp_ms))
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={sign}"


@dataclass
class ImWebhookChannel:
    """Send to WeCom (``flavor="wecom"``) or DingTalk (``flavor="dingtalk"``) robots.

    ``secret`` enables DingTalk signing. ``at_mobiles`` maps a recipient URL to phone
    numbers to @-mention (both robots support ``mentioned_mobile_list`` / ``at``).
    """

    flavor: Literal["wecom", "dingtalk"]
    secret: str | None = None
    msgtype: Literal["text", "markdown"] = "markdown"
    timeout: float = 5.0
    clock_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    name: str = "im_webhook"

    def payload(self, message: Message) -> dict[str, object]:
        if self.msgtype == "text":
            return {"msgtype": "text", "text": {"content": f"{message.title}\n{message.body}"}}
        if self.flavor == "dingtalk":
            return {
                "msgtype": "markdown",
                "markdown": {
                    "title": message.title,
                    "text": f"### {message.title}\n{message.body}",
                },
            }
        return {
            "msgtype": "markdown",
            "markdown": {"content": f"### {message.title}\n{message.body}"},
        }

    def url_for(self, message: Message) -> str:
        if self.flavor == "dingtalk" and self.secret:
            return signed_dingtalk_url(message.recipient, self.secret, self.clock_ms())
        return message.recipient

    def send(self, messages: Sequence[Message]) -> list[Result]:
        return [self._send_one(m) for m in messages]

    def _send_one(self, message: Message) -> Result:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        try:
            resp = transport.request(
                "POST", self.url_for(message), body=body, timeout=self.timeout,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )  # fmt: skip
        except transport.TransportError as exc:
            return Result.transient_error(message, "transport", describe(exc))
        if transport.status_is_transient(resp.status):
            return Result.transient_error(
                message, f"http_{resp.status}", retry_after=transport.retry_after_seconds(resp)
            )
        if resp.status >= 400:
            return Result.permanent_error(message, f"http_{resp.status}", describe(resp.body))
        try:
            data = resp.json()
            errcode = int(data.get("errcode", -1))
        except (ValueError, AttributeError, TypeError):
            return Result.transient_error(message, "bad_response", describe(resp.body))
        if errcode == 0:
            return Result.success(message)
        detail = describe(data.get("errmsg", ""))
        if errcode in TRANSIENT_ERRCODES:
            return Result.transient_error(message, str(errcode), detail)
        return Result.permanent_error(message, str(errcode), detail)
