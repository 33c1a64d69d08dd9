"""Loopback FCM v1 fake: OAuth2 JWT-bearer token endpoint + ``messages:send``
(docs/notifications.md#demo-fakes).

It issues an access token only for a JWT signed (RS256) by the service account's
private key, with the cloud-platform scope, this fake's ``token_uri`` as audience and
the account's ``client_email`` as issuer; ``messages:send`` then accepts only that
bearer token. firebase-admin is pointed at it through the service account's
``token_uri`` and the channel's ``fcm_url`` (notifications/channels/fcm.py).
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from notifications.fakes.server import Journal, Received

PROJECT = "govdesk-test"
ACCESS_TOKEN = "ya29.fake-access-token"  # noqa: S105 - the fake's own, loopback only
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Tokens with this prefix answer UNREGISTERED (a dead token) in the demo and bench.
DEAD_TOKEN_PREFIX = "unregistered-"  # noqa: S105 - not a secret


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def fcm_error(status: int, canonical: str, fcm_code: str | None) -> tuple[int, Any]:
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
        if fcm_code else []
    )  # fmt: skip
    return status, {"error": {"code": status, "message": canonical, "status": canonical,
                              "details": details}}  # fmt: skip


def new_service_account(token_uri: str, project: str = PROJECT) -> dict[str, str]:
    """A fresh service-account JSON (new RSA key) whose ``token_uri`` is the fake's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _service_account(key, token_uri, project)


def _service_account(key: rsa.RSAPrivateKey, token_uri: str, project: str) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    return {
        "type": "service_account", "project_id": project, "private_key_id": "k1",
        "private_key": pem, "client_email": f"push@{project}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri,
    }  # fmt: skip


class FcmFake:
    """Issues an access token only for a JWT signed by the service account's key, then
    accepts ``messages:send`` only with that bearer token. ``errors`` maps a device
    token to a canned FCM error response; tokens starting ``unregistered-`` are dead.

    ``url`` is where the fake is mounted (its ``token`` and ``v1/...`` paths are below
    it); set it once the server is listening."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey | None = None,
        project: str = PROJECT,
        journal: Journal | None = None,
    ) -> None:
        self.key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.project = project
        self.journal = journal
        self.errors: dict[str, tuple[int, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.token_requests = 0
        self._lock = threading.Lock()
        self.url = ""

    @classmethod
    def for_service_account(
        cls, service_account: Mapping[str, Any], journal: Journal | None = None
    ) -> FcmFake:
        """A fake that accepts JWTs signed by this (existing) service account's key."""
        key = serialization.load_pem_private_key(
            str(service_account["private_key"]).encode(), password=None
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the service account's private_key is not an RSA key")
        return cls(key, project=str(service_account["project_id"]), journal=journal)

    def service_account(self) -> dict[str, str]:
        return _service_account(self.key, self.url + "token", self.project)

    def __call__(self, req: Received) -> tuple[int, Any]:
        if req.path == "/token":
            return self._token(req)
        if req.path == f"/v1/projects/{self.project}/messages:send":
            return self._send(req)
        return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": req.path}}

    def _token(self, req: Received) -> tuple[int, Any]:
        form = dict(urllib.parse.parse_qsl(req.body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            header, claims, sig = form["assertion"].split(".")
            self.key.public_key().verify(
                _b64url_decode(sig), f"{header}.{claims}".encode(), padding.PKCS1v15(),
                hashes.SHA256(),
            )  # fmt: skip
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "bad signature"}
        body = json.loads(_b64url_decode(claims))
        if (
            CLOUD_PLATFORM_SCOPE not in body.get("scope", "").split()
            or body.get("aud") not in (self.url + "token", "https://oauth2.googleapis.com/token")
            or body.get("iss") != f"push@{self.project}.iam.gserviceaccount.com"
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
        if isinstance(token, str) and token.startswith(DEAD_TOKEN_PREFIX):
            return fcm_error(404, "NOT_FOUND", "UNREGISTERED")
        with self._lock:
            self.sent.append(message)
            n = len(self.sent)
        if self.journal is not None:
            notification = message.get("notification") or {}
            self.journal.record(
                "fcm",
                recipient=token,
                title=notification.get("title", ""),
                body=notification.get("body", ""),
                data=message.get("data") or {},
                priority=(message.get("android") or {}).get("priority", ""),
            )
        return 200, {"name": f"projects/{self.project}/messages/{n}"}
