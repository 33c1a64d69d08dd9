"""Loopback Web Push receiver: a push service and the browser behind it, in one fake
(docs/notifications.md#demo-fakes).

It mints subscriptions the way a browser does (``PushManager.subscribe``): a fresh
P-256 key pair and a 16-byte auth secret per subscription, optionally bound to the
application server's VAPID public key. On ``POST /push/<id>`` it checks what a real
push service checks and decrypts what only the browser could:

1. ``TTL`` header present (RFC 8030 §5.2), else 400;
2. ``Authorization: vapid t=<JWT>, k=<key>`` (RFC 8292): the JWT's ES256 signature
   verified against ``k`` (an independent implementation, not py_vapid's), ``aud`` the
   endpoint's origin, ``exp`` in the future and at most 24 h away, ``sub`` a
   ``mailto:``/``https:`` contact; ``k`` equal to the subscription's
   ``applicationServerKey`` when it has one (else 403);
3. ``Content-Encoding: aes128gcm`` and at most 4096 octets;
4. the body decrypted (RFC 8291: ECDH with the subscription's private key, the auth
   secret, HKDF, AES-128-GCM) -- a body that does not decrypt is refused (400).

Accepted pushes are kept (``received``) with their plaintext and headers, and written
to the journal; the answer is ``201 Created`` with a ``Location``. ``responses`` maps a
subscription id to a canned answer (``(410, {})`` for an unsubscribed browser,
``(429, {}, {"Retry-After": "7"})`` ...); ``unsubscribe`` makes it answer 410.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from notifications.fakes.server import Journal, Received, Reply

MAX_BODY = 4096
MAX_JWT_LIFETIME = 24 * 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_vapid_authorization(value: str) -> tuple[str, str]:
    """``vapid t=<jwt>, k=<key>`` → (jwt, key)."""
    scheme, _, params = value.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(401, f"authorization scheme {scheme!r} is not vapid")
    parts: dict[str, str] = {}
    for item in params.split(","):
        name, sep, val = item.strip().partition("=")
        if sep:
            parts[name.strip().lower()] = val.strip()
    if "t" not in parts or "k" not in parts:
        raise VapidError(401, "vapid authorization needs t= and k=")
    return parts["t"], parts["k"]


def verify_vapid_jwt(token: str, public_key_b64: str, expected_aud: str, now: float) -> dict:
    """Verifies an RFC 8292 JWT: ES256 over ``header.claims`` with the ``k`` key."""
    try:
        header_b64, claims_b64, sig_b64 = token.split(".")
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(claims_b64))
        signature = _b64url_decode(sig_b64)
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), _b64url_decode(public_key_b64)
        )
    except (ValueError, TypeError):
        raise VapidError(401, "malformed VAPID JWT or key") from None
    if header.get("alg") != "ES256":
        raise VapidError(401, f"JWT alg {header.get('alg')!r} is not ES256")
    if len(signature) != 64:  # JWS ES256: raw r || s, 32 octets each
        raise VapidError(401, "ES256 signature must be 64 octets")
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError(401, "VAPID JWT signature does not verify") from None
    if claims.get("aud") != expected_aud:
        raise VapidError(401, f"aud {claims.get('aud')!r} is not {expected_aud!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + MAX_JWT_LIFETIME:
        raise VapidError(401, f"exp {exp!r} is not within 24 h from now")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise VapidError(401, "sub must be a mailto: or https: contact")
    return claims


@dataclass
class Subscription:
    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str | None = None
    active: bool = True

    def info(self) -> dict[str, Any]:
        """The browser's ``PushSubscription.toJSON()``."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": _b64url(point), "auth": _b64url(self.auth_secret)},
        }

    def json(self) -> str:
        return json.dumps(self.info(), separators=(",", ":"), sort_keys=True)


@dataclass
class PushReceived:
    subscription_id: str
    plaintext: bytes
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]
    received_at: float

    def json(self) -> Any:
        return json.loads(self.plaintext)


@dataclass
class WebPushReceiver:
    journal: Journal | None = None
    clock: Callable[[], float] = time.time
    url: str = ""  # where it is mounted; set once the server listens
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    received: list[PushReceived] = field(default_factory=list)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    responses: dict[str, Reply] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, application_server_key: str | None = None) -> Subscription:
        sub_id = secrets.token_urlsafe(12)
        sub = Subscription(
            id=sub_id,
            endpoint=f"{self.url}push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        with self._lock:
            self.subscriptions[sub_id] = sub
        return sub

    def unsubscribe(self, sub_id: str) -> None:
        self.subscriptions[sub_id].active = False

    def plaintexts(self, sub_id: str | None = None) -> list[Any]:
        return [p.json() for p in self.received if sub_id is None or p.subscription_id == sub_id]

    def __call__(self, req: Received) -> Reply:
        if req.method == "POST" and req.path == "/subscriptions":
            body = req.json() if req.body else {}
            key = body.get("application_server_key") if isinstance(body, dict) else None
            return 201, self.subscribe(key).info()
        if req.method == "POST" and req.path.startswith("/push/"):
            return self._push(req.path[len("/push/") :], req)
        return 404, {"error": "not found"}

    def _refuse(self, sub_id: str, status: int, reason: str) -> Reply:
        with self._lock:
            self.rejected.append((sub_id, status, reason))
        return status, {"error": reason}

    def _push(self, sub_id: str, req: Received) -> Reply:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            return self._refuse(sub_id, 404, "no such subscription")
        if not sub.active:
            return self._refuse(sub_id, 410, "unsubscribed")
        if sub_id in self.responses:
            return self.responses[sub_id]
        ttl_text = req.headers.get("ttl", "")
        if not ttl_text.isdigit():
            return self._refuse(sub_id, 400, "TTL header missing or not a number")
        try:
            jwt, key = parse_vapid_authorization(req.headers.get("authorization", ""))
            split = urllib.parse.urlsplit(sub.endpoint)
            claims = verify_vapid_jwt(jwt, key, f"{split.scheme}://{split.netloc}", self.clock())
        except VapidError as exc:
            return self._refuse(sub_id, exc.status, exc.reason)
        if sub.application_server_key is not None and key != sub.application_server_key:
            return self._refuse(sub_id, 403, "VAPID key differs from the applicationServerKey")
        if req.headers.get("content-encoding", "").lower() != "aes128gcm":
            return self._refuse(sub_id, 400, "Content-Encoding must be aes128gcm")
        if len(req.body) > MAX_BODY:
            return self._refuse(sub_id, 413, "payload over 4096 octets")
        try:
            plaintext = http_ece.decrypt(
                req.body,
                private_key=sub.private_key,
                auth_secret=sub.auth_secret,
                version="aes128gcm",
            )
        except Exception as exc:  # http_ece raises ECEException / InvalidTag
            return self._refuse(sub_id, 400, f"payload does not decrypt: {exc!r}")
        push = PushReceived(
            subscription_id=sub_id,
            plaintext=plaintext,
            ttl=int(ttl_text),
            urgency=req.headers.get("urgency"),
            topic=req.headers.get("topic"),
            claims=claims,
            received_at=self.clock(),
        )
        with self._lock:
            self.received.append(push)
            n = len(self.received)
        if self.journal is not None:
            try:
                payload: Any = json.loads(plaintext)
            except ValueError:
                payload = plaintext.decode("utf-8", "replace")
            self.journal.record(
                "webpush",
                recipient=sub_id,
                payload=payload,
                ttl=push.ttl,
                urgency=push.urgency,
            )
        location: Mapping[str, str] = {"Location": f"{self.url}m/{n}"}
        return 201, None, location
