"""Tencent Cloud SMS channel, API 3.0 ``SendSms`` version 2021-01-11
(docs/notifications.md).

Signing (TC3-HMAC-SHA256), as documented by Tencent Cloud:

* ``CanonicalRequest = "POST\\n/\\n\\n" + "content-type:application/json; charset=utf-8\\n"
  + "host:<host>\\n" + "\\n" + "content-type;host\\n" + hex(sha256(body))``
* ``CredentialScope = f"{date}/sms/tc3_request"`` (``date`` = UTC date of X-TC-Timestamp)
* ``StringToSign = "TC3-HMAC-SHA256\\n" + timestamp + "\\n" + CredentialScope + "\\n"
  + hex(sha256(CanonicalRequest))``
* ``kDate = HMAC("TC3" + SecretKey, date)``, ``kService = HMAC(kDate, "sms")``,
  ``kSigning = HMAC(kService, "tc3_request")``, ``Signature = hex(HMAC(kSigning, StringToSign))``
* ``Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<CredentialScope>,
  SignedHeaders=content-type;host, Signature=<Signature>``

One request carries up to 200 numbers; the answer is
``{"Response": {"SendStatusSet": [{"PhoneNumber", "Code": "Ok", "SerialNo", ...}],
"RequestId"}}`` or ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from notifications.channels import transport
from notifications.channels.base import Message, Result, describe
from notifications.channels.ratelimit import TokenBucket

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
CONTENT_TYPE = "application/json; charset=utf-8"
MAX_NUMBERS_PER_REQUEST = 200

TRANSIENT_PREFIXES = ("LimitExceeded.", "InternalError", "RequestLimitExceeded")
TRANSIENT_CODES = frozenset({"ResourceUnavailable"})
# Permanent codes that mean "this number is unusable" (disable the address).
DEAD_NUMBER_CODES = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "UnsupportedOperation.UnsupportedRegion",
    }
)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def canonical_request(host: str, body: bytes) -> str:
    headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\n"
    payload_hash = hashlib.sha256(body).hexdigest()
    return f"POST\n/\n\n{headers}\ncontent-type;host\n{payload_hash}"


def signature(secret_key: str, host: str, body: bytes, timestamp: int) -> tuple[str, str]:
    """Return ``(credential_scope, hex signature)``."""

    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{SERVICE}/tc3_request"
    hashed = hashlib.sha256(canonical_request(host, body).encode("utf-8")).hexdigest()
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashed}"
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    k_signing = _hmac(_hmac(k_date, SERVICE), "tc3_request")
    return scope, hmac.new(k_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int) -> str:
    scope, sig = signature(secret_key, host, body, timestamp)
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )


def classify(code: str) -> bool:
    """True when ``code`` is transient."""

    return code in TRANSIENT_CODES or code.startswith(TRANSIENT_PREFIXES)


def e164(number: str) -> str:
    """Tencent wants E.164; bare 11-digit mainland numbers get ``+86``."""

    return number if number.startswith("+") else f"+86{number}"


@dataclass
class TencentSmsChannel:
    """Template SMS via Tencent Cloud. Messages sharing the same ``data`` values are
    batched (≤200 numbers/request); template params are ``message.data`` values in
    the order of ``param_names``."""

    secret_id: str
    secret_key: str
    sms_sdk_app_id: str
    sign_name: str
    template_id: str
    param_names: tuple[str, ...] = ()
    endpoint: str = DEFAULT_ENDPOINT
    region: str = "ap-guangzhou"
    rate_limit: TokenBucket | None = None
    timeout: float = 10.0
    clock: Callable[[], float] = time.time
    name: str = "sms_tencent"

    def template_params(self, message: Message) -> list[str]:
        return [message.data.get(n, "") for n in self.param_names]

    def send(self, messages: Sequence[Message]) -> list[Result]:
        results: dict[int, Result] = {}
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, m in enumerate(messages):
            if self.rate_limit is not None:
                wait = self.rate_limit.try_acquire(e164(m.recipient))
                if wait is not None:
                    results[i] = Result.transient_error(m, "local_rate_limit", retry_after=wait)
                    continue
            groups.setdefault(tuple(self.template_params(m)), []).append(i)
        for params, indexes in groups.items():
            for start in range(0, len(indexes), MAX_NUMBERS_PER_REQUEST):
                chunk = indexes[start : start + MAX_NUMBERS_PER_REQUEST]
                batch = [messages[i] for i in chunk]
                for i, r in zip(chunk, self._send_batch(batch, list(params)), strict=True):
                    results[i] = r
        return [results[i] for i in range(len(messages))]

    def _send_batch(self, batch: list[Message], params: list[str]) -> list[Result]:
        body = json.dumps(
            {
                "PhoneNumberSet": [e164(m.recipient) for m in batch],
                "SmsSdkAppId": self.sms_sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": self.template_id,
                "TemplateParamSet": params,
                "SessionContext": batch[0].idempotency_key if len(batch) == 1 else "",
            },
            ensure_ascii=False,
        ).encode("utf-8")
        host = urllib.parse.urlsplit(self.endpoint).netloc
        timestamp = int(self.clock())
        headers = {
            "Authorization": authorization(self.secret_id, self.secret_key, host, body, timestamp),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self.region,
        }
        try:
            resp = transport.request(
                "POST", self.endpoint, body=body, headers=headers, timeout=self.timeout
            )
        except transport.TransportError as exc:
            return [Result.transient_error(m, "transport", describe(exc)) for m in batch]
        try:
            data = resp.json()["Response"]
        except (ValueError, KeyError, TypeError):
            if transport.status_is_transient(resp.status):
                return [Result.transient_error(m, f"http_{resp.status}") for m in batch]
            return [Result.permanent_error(m, f"http_{resp.status}") for m in batch]
        if "Error" in data:
            code = str(data["Error"].get("Code", "Unknown"))
            detail = describe(data["Error"].get("Message", ""))
            if classify(code) or transport.status_is_transient(resp.status):
                return [Result.transient_error(m, code, detail) for m in batch]
            return [Result.permanent_error(m, code, detail) for m in batch]
        by_number = {s.get("PhoneNumber"): s for s in data.get("SendStatusSet", [])}
        out: list[Result] = []
        for m in batch:
            status = by_number.get(e164(m.recipient))
            if status is None:
                out.append(Result.transient_error(m, "missing_status"))
                continue
            code = str(status.get("Code", ""))
            if code == "Ok":
                out.append(Result.success(m, provider_message_id=str(status.get("SerialNo", ""))))
            elif classify(code):
                out.append(Result.transient_error(m, code, describe(status.get("Message", ""))))
            else:
                out.append(Result.permanent_error(m, code, describe(status.get("Message", ""))))
        return out
