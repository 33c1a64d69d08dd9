"""Aliyun (Alibaba Cloud) SMS channel, RPC API ``SendSms`` version 2017-05-25
(docs/notifications.md).

Signing (RPC signature v1, HMAC-SHA1), as documented by Alibaba Cloud:

1. Take every query parameter except ``Signature``, sort by name, percent-encode
   names and values per RFC 3986 (``A-Z a-z 0-9 - _ . ~`` unreserved, space ``%20``,
   ``*`` ``%2A``), join as ``k=v`` with ``&`` -> canonicalized query.
2. ``StringToSign = "GET&" + percentEncode("/") + "&" + percentEncode(canonicalized)``.
3. ``Signature = base64(HMAC-SHA1(key=AccessKeySecret + "&", StringToSign))``.

The response is ``{"Code": "OK", "Message": "OK", "BizId": ..., "RequestId": ...}``
or the same shape with an error ``Code``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from notifications.channels import transport
from notifications.channels.base import Message, Result, describe
from notifications.channels.ratelimit import TokenBucket

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"

# Error codes worth retrying later (throttling, provider-side faults).
TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number / per-minute flow control
        "isv.DAY_LIMIT_CONTROL",  # daily limit reached: later (tomorrow) may work
        "Throttling.User",
        "Throttling",
        "ServiceUnavailable",
        "isp.SYSTEM_ERROR",
        "InternalError",
    }
)
# Permanent codes that mean "this phone number is unusable" (disable the address).
DEAD_NUMBER_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL"})


def percent_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    key = (access_key_secret + "&").encode()
    digest = hmac.new(key, string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class AliyunSmsChannel:
    """Send a template SMS per message.

    ``template_code`` is the approved template (e.g. ``SMS_123456789``); the template
    variables are taken from ``message.data`` (``TemplateParam`` JSON). ``recipient``
    is the phone number (mainland numbers without ``+86``).
    """

    access_key_id: str
    access_key_secret: str
    sign_name: str
    template_code: str
    endpoint: str = DEFAULT_ENDPOINT
    region_id: str = "cn-hangzhou"
    rate_limit: TokenBucket | None = None
    timeout: float = 10.0
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    nonce: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    name: str = "sms_aliyun"

    def signed_params(self, message: Message) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.idempotency_key,
            "PhoneNumbers": message.recipient,
            "RegionId": self.region_id,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(message.data, ensure_ascii=False, sort_keys=True),
            "Timestamp": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = sign("GET", params, self.access_key_secret)
        return params

    def send(self, messages: Sequence[Message]) -> list[Result]:
        return [self._send_one(m) for m in messages]

    def _send_one(self, message: Message) -> Result:
        if self.rate_limit is not None:
            wait = self.rate_limit.try_acquire(message.recipient)
            if wait is not None:
                return Result.transient_error(message, "local_rate_limit", retry_after=wait)
        query = urllib.parse.urlencode(self.signed_params(message), quote_via=urllib.parse.quote)
        try:
            resp = transport.request("GET", f"{self.endpoint}?{query}", timeout=self.timeout)
        except transport.TransportError as exc:
            return Result.transient_error(message, "transport", describe(exc))
        try:
            data = resp.json()
            code = str(data["Code"])
        except (ValueError, KeyError, TypeError):
            if transport.status_is_transient(resp.status):
                return Result.transient_error(message, f"http_{resp.status}")
            return Result.permanent_error(message, f"http_{resp.status}", describe(resp.body))
        if code == "OK":
            return Result.success(message, provider_message_id=str(data.get("BizId", "")))
        detail = describe(data.get("Message", ""))
        if code in TRANSIENT_CODES or transport.status_is_transient(resp.status):
            return Result.transient_error(message, code, detail)
        return Result.permanent_error(message, code, detail)
