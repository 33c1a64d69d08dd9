"""Loopback fake provider servers that speak the real protocols and check signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# A handler gets the request and returns (status, json body).
Handler = Callable[[Received], tuple[int, Any]]


@dataclass
class FakeServer:
    handler: Handler
    received: list[Received] = field(default_factory=list)
    url: str = ""


@contextmanager
def serve(handler: Handler) -> Iterator[FakeServer]:
    fake = FakeServer(handler)

    class _H(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            req = Received(
                self.command,
                split.path,
                dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            fake.received.append(req)
            status, payload = fake.handler(req)
            out = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = _handle
        do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class _Server(ThreadingHTTPServer):
        request_queue_size = 1024  # firebase-admin send_each opens up to 500 connections at once
        daemon_threads = True

    server = _Server(("127.0.0.1", 0), _H)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def dingtalk_robot(secret: str, *, errcode: int = 0) -> Handler:
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
        return 200, {"errcode": errcode, "errmsg": "ok" if errcode == 0 else "error"}

    return handle


def aliyun_sms(
    access_key_id: str, secret: str, *, code_for: dict[str, str] | None = None
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
            return 200, {**base, "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}
        return 200, {**base, "Code": code, "Message": "error"}

    return handle


def tencent_sms(
    secret_id: str, secret_key: str, *, code_for: dict[str, str] | None = None
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
