"""Loopback FCM v1 fake: OAuth2 JWT-bearer token endpoint + ``messages:send``."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.notifications.fakes import Received

PROJECT = "govdesk-test"
ACCESS_TOKEN = "ya29.fake-access-token"


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def fcm_error(status: int, canonical: str, fcm_code: str | None) -> tuple[int, Any]:
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
        if fcm_code else []
    )  # fmt: skip
    return status, {"error": {"code": status, "message": canonical, "status": canonical,
                              "details": details}}  # fmt: skip


class FcmFake:
    """Issues an access token only for a JWT signed by the service account's key, then
    accepts ``messages:send`` only with that bearer token. ``errors`` maps a device
    token to a canned FCM error response."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.errors: dict[str, tuple[int, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.token_requests = 0
        self._lock = threading.Lock()
        self.url = ""

    def service_account(self) -> dict[str, str]:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()  # fmt: skip
        return {
            "type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
            "private_key": pem, "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": self.url + "token",
        }  # fmt: skip

    def __call__(self, req: Received) -> tuple[int, Any]:
        if req.path == "/token":
            return self._token(req)
        if req.path == f"/v1/projects/{PROJECT}/messages:send":
            return self._send(req)
        return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": req.path}}

    def _token(self, req: Received) -> tuple[int, Any]:
        form = dict(urllib.parse.parse_qsl(req.body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        header, claims, sig = form["assertion"].split(".")
        try:
            self.key.public_key().verify(
                _b64url_decode(sig), f"{header}.{claims}".encode(), padding.PKCS1v15(),
                hashes.SHA256(),
            )  # fmt: skip
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "bad signature"}
        body = json.loads(_b64url_decode(claims))
        if (
            "https://www.googleapis.com/auth/cloud-platform" not in body.get("scope", "").split()
            or body.get("aud") not in (self.url + "token", "https://oauth2.googleapis.com/token")
            or body.get("iss") != f"push@{PROJECT}.iam.gserviceaccount.com"
        ):
            return 400, {"error": "invalid_scope", "error_description": repr(body)}
        with self._lock:
            self.token_requests += 1
        return 200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}

    def _send(self, req: Received) -> tuple[int, Any]:
        if req.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return fcm_error(401, "UNAUTHENTICATED", None)
        message = req.json()["message"]
        token = message.get("token")
        if token in self.errors:
            return self.errors[token]
        with self._lock:
            self.sent.append(message)
            n = len(self.sent)
        return 200, {"name": f"projects/{PROJECT}/messages/{n}"}
