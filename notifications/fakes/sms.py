"""Signature-checking fakes of the SMS providers and the office-IM robot
(docs/notifications.md#demo-fakes).

Each fake re-implements the provider's documented signing independently of
``notifications/channels`` and answers the way the provider does: Aliyun dysmsapi
(RPC HMAC-SHA1), Tencent Cloud SMS API 3.0 (TC3-HMAC-SHA256), DingTalk robot 加签.
``code_for`` maps a phone number to a canned provider error code. An accepted
message is written to the ``journal`` when one is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from typing import Any

from notifications.fakes.server import Handler, Journal, Received


def dingtalk_robot(secret: str, *, errcode: int = 0, journal: Journal | None = None) -> Handler:
    """DingTalk robot: verifies timestamp+sign as DingTalk does, then answers."""

    def handle(req: Received) -> tuple[int, Any]:
        ts, sign = req.query.get("timestamp"), req.query.get("sign")
        if ts is None or sign is None:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        # parse_qsl already url-decoded the value once.
        if not hmac.compare_digest(sign, expected):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = req.json()
        if body.get("msgtype") not in ("text", "markdown"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if errcode == 0 and journal is not None:
            journal.record("dingtalk", recipient=req.query.get("access_token", ""), message=body)
        return 200, {"errcode": errcode, "errmsg": "ok" if errcode == 0 else "error"}

    return handle


def aliyun_sms(
    access_key_id: str,
    secret: str,
    *,
    code_for: dict[str, str] | None = None,
    journal: Journal | None = None,
) -> Handler:
    """Aliyun dysmsapi: recomputes the RPC HMAC-SHA1 signature from the raw query."""

    code_for = code_for or {}

    def handle(req: Received) -> tuple[int, Any]:
        params = dict(req.query)
        given = params.pop("Signature", "")

        # Independent re-implementation of the documented algorithm.
        def enc(s: str) -> str:
            return urllib.parse.quote(s, safe="~").replace("+", "%20").replace("*", "%2A")

        canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
        to_sign = "GET&%2F&" + enc(canonical)
        expected = base64.b64encode(
            hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        base = {"RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"}
        if params.get("AccessKeyId") != access_key_id:
            return 404, {**base, "Code": "InvalidAccessKeyId.NotFound", "Message": "no key"}
        if not hmac.compare_digest(given, expected):
            return 400, {**base, "Code": "SignatureDoesNotMatch", "Message": "bad sig"}
        for required in ("Action", "PhoneNumbers", "SignName", "TemplateCode", "Timestamp"):
            if not params.get(required):
                return 400, {**base, "Code": "MissingParameter", "Message": required}
        code = code_for.get(params["PhoneNumbers"], "OK")
        if code == "OK":
            if journal is not None:
                journal.record(
                    "aliyun_sms",
                    recipient=params["PhoneNumbers"],
                    sign_name=params["SignName"],
                    template=params["TemplateCode"],
                    params=json.loads(params.get("TemplateParam") or "{}"),
                    out_id=params.get("OutId", ""),
                )
            return 200, {**base, "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}
        return 200, {**base, "Code": code, "Message": "error"}

    return handle


def tencent_sms(
    secret_id: str,
    secret_key: str,
    *,
    code_for: dict[str, str] | None = None,
    journal: Journal | None = None,
) -> Handler:
    """Tencent SMS: parses Authorization, recomputes TC3-HMAC-SHA256, answers per number."""

    code_for = code_for or {}

    def handle(req: Received) -> tuple[int, Any]:
        rid = "a0aabda6-cf91-4f3e-a2a0-5ac8ca2ac3b0"
        auth = req.headers.get("authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            cred_id, date, service, term = parts["Credential"].split("/")
        except ValueError:
            return 200, {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "malformed"},
                    "RequestId": rid,
                }
            }
        ts = req.headers["x-tc-timestamp"]
        canonical = (
            f"POST\n/\n\ncontent-type:{req.headers['content-type']}\nhost:{req.headers['host']}\n"
            f"\n{parts['SignedHeaders']}\n{hashlib.sha256(req.body).hexdigest()}"
        )
        to_sign = (
            f"{algo}\n{ts}\n{date}/{service}/{term}\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        k = hmac.new(f"TC3{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
        k = hmac.new(k, service.encode(), hashlib.sha256).digest()
        k = hmac.new(k, term.encode(), hashlib.sha256).digest()
        expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        if (
            cred_id != secret_id
            or service != "sms"
            or not hmac.compare_digest(parts["Signature"], expected)
            or req.headers.get("x-tc-action") != "SendSms"
        ):
            return 200, {
                "Response": {
                    "Error": {
                        "Code": "AuthFailure.SignatureFailure",
                        "Message": "signature mismatch",
                    },
                    "RequestId": rid,
                }
            }
        body = req.json()
        statuses = []
        for n, number in enumerate(body["PhoneNumberSet"]):
            code = code_for.get(number, "Ok")
            if code == "Ok" and journal is not None:
                journal.record(
                    "tencent_sms",
                    recipient=number,
                    sign_name=body.get("SignName", ""),
                    template=body.get("TemplateId", ""),
                    params=body.get("TemplateParamSet", []),
                    out_id=body.get("SessionContext", ""),
                )
            statuses.append(
                {
                    "SerialNo": f"2028:{n}-{number}" if code == "Ok" else "",
                    "PhoneNumber": number,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": body.get("SessionContext", ""),
                    "Code": code,
                    "Message": "send success" if code == "Ok" else "failed",
                    "IsoCode": "CN",
                }
            )
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": rid}}

    return handle
