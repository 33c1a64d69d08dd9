"""Web Push channel: VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291)
through pywebpush (docs/notifications.md#web-push).

``Message.recipient`` is the browser's subscription as JSON text,
``{"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}`` (``Device.address``). The
payload is JSON ``{"title", "body", "data", "idempotency_key"}`` that the PWA's
service worker shows; it is encrypted to the subscription's P-256 key and auth
secret, so the push service (and anything between) sees only ciphertext.

Per message the push service answers:

* 201/202/200 -- accepted; ``provider_message_id`` is its ``Location``.
* 404/410 -- the subscription is gone (unsubscribed, expired): permanent, disable the
  device (``DEAD_SUBSCRIPTION_CODES``).
* 429, 408, 5xx, timeouts and connection failures -- transient; ``Retry-After``
  (seconds or an HTTP date) becomes ``retry_after``.
* 401/403 -- the push service refused our VAPID credentials (or the subscription was
  made for another applicationServerKey): permanent. 413 and other 4xx are
  permanent too. The endpoint is a URL a user registered, so the Django worker
  disables only that device for any of these, never the channel.
* 3xx -- not followed (a push service never redirects; following would POST where
  the endpoint's owner points, e.g. an intranet host): permanent
  ``endpoint_redirected``.

Headers from the urgency: ``Urgency`` (RFC 8030 §5.3; a push service may hold
low-urgency messages for a phone on battery) and ``TTL`` (how long the push service
keeps an undelivered message: a very urgent reminder older than an hour has been
overtaken by the SMS rung of the ladder, a low one can wait days). ``Topic`` is
derived from the idempotency key, so a retry of a message the push service still holds
replaces it instead of arriving twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

if TYPE_CHECKING:
    import requests

# pywebpush (and the requests/aiohttp it pulls in) is imported when a channel is built,
# not with this module: api/settings.py imports the key helpers to check the
# configured VAPID key at start-up and should not pay ~150 ms for it.

from notifications.channels.base import Message, Result, Urgency, describe

# Seconds the push service keeps an undelivered message, per urgency.
TTL_SECONDS: Mapping[Urgency, int] = {
    Urgency.LOW: 3 * 86400,
    Urgency.NORMAL: 86400,
    Urgency.HIGH: 12 * 3600,
    Urgency.VERY_URGENT: 3600,
}
# RFC 8030 §5.3 values: very-low | low | normal | high.
URGENCY_HEADER: Mapping[Urgency, str] = {
    Urgency.LOW: "low",
    Urgency.NORMAL: "normal",
    Urgency.HIGH: "high",
    Urgency.VERY_URGENT: "high",
}
DEAD_SUBSCRIPTION_CODES = frozenset({"subscription_gone"})
# RFC 8291: one 4096-octet record; minus the aes128gcm header (86 octets with a
# 65-octet key id), the padding delimiter (1) and the GCM tag (16).
MAX_PLAINTEXT = 4096 - 86 - 1 - 16
# RFC 8292 §2: the JWT must expire within 24 hours; renewed when less than an hour is left.
VAPID_JWT_SECONDS = 12 * 3600
VAPID_RENEW_SECONDS = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: (private key as base64url of the raw 32-byte scalar,
    public key as base64url of the uncompressed point -- the browser's
    ``applicationServerKey``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(raw), public_key_of(key)


def load_vapid_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """Accepts base64url raw (32 bytes), base64 DER or PEM (``-----BEGIN``)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = b64url_decode(text.replace("\n", ""))
        if len(raw) == 32:
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        else:
            key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("a VAPID key must be an EC P-256 private key")
    return key


def public_key_of(key: ec.EllipticCurvePrivateKey | str) -> str:
    """The browser-facing ``applicationServerKey`` (base64url uncompressed point)."""
    if isinstance(key, str):
        key = load_vapid_private_key(key)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def topic_for(idempotency_key: str) -> str:
    """RFC 8030 §5.4 Topic: at most 32 characters of the URL-safe base64 alphabet."""
    return b64url(hashlib.sha256(idempotency_key.encode()).digest())[:32]


def retry_after_header(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now())


def payload_for(message: Message) -> bytes:
    """The JSON the service worker receives; the body is shortened to fit one record."""
    doc: dict[str, Any] = {
        "title": message.title,
        "body": message.body,
        "data": dict(message.data),
        "idempotency_key": message.idempotency_key,
    }
    encoded = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    while len(encoded) > MAX_PLAINTEXT and doc["body"]:
        over = len(encoded) - MAX_PLAINTEXT
        # A CJK character is 3 bytes in UTF-8: cut at least `over` bytes' worth.
        doc["body"] = doc["body"][: max(0, len(doc["body"]) - max(over // 3, 1) - 1)] + "…"
        if len(doc["body"]) <= 1:
            doc["body"] = ""
        encoded = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return encoded


class InvalidSubscription(ValueError):
    pass


def is_loopback_host(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost")


def parse_subscription(recipient: str, allow_loopback_http: bool) -> dict[str, Any]:
    try:
        info = json.loads(recipient)
    except ValueError:
        raise InvalidSubscription("recipient is not JSON") from None
    if not isinstance(info, dict):
        raise InvalidSubscription("subscription is not an object")
    endpoint = info.get("endpoint")
    keys = info.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, dict):
        raise InvalidSubscription("subscription needs endpoint and keys")
    split = urllib.parse.urlsplit(endpoint)
    loopback_http = (
        allow_loopback_http and split.scheme == "http" and is_loopback_host(split.hostname or "")
    )
    if not split.hostname or (split.scheme != "https" and not loopback_http):
        raise InvalidSubscription(f"endpoint {split.scheme}://{split.hostname} not allowed")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise InvalidSubscription("keys need p256dh and auth")
    try:
        point = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(b64url_decode(auth)) != 16:
            raise ValueError("auth secret must be 16 bytes")
    except (ValueError, TypeError) as exc:
        raise InvalidSubscription(f"bad keys: {exc}") from None
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def audience(endpoint: str) -> str:
    split = urllib.parse.urlsplit(endpoint)
    return f"{split.scheme}://{split.netloc}"


@dataclass
class WebPushChannel:
    """``vapid_private_key``: base64url raw, base64 DER or PEM (see
    :func:`generate_vapid_keys`); ``vapid_subject``: ``mailto:`` or ``https:`` contact
    of the sender (RFC 8292 ``sub``). Endpoints must be ``https://``, except
    ``http://`` on a loopback host (the local test receiver) while
    ``allow_loopback_http`` -- device registration (api/notify/serializers.py)
    already refuses those in production."""

    vapid_private_key: str
    vapid_subject: str
    timeout: float = 10.0
    allow_loopback_http: bool = True
    clock: Callable[[], float] = time.time
    name: str = "webpush"
    _vapid: Vapid02 = field(init=False, repr=False)
    _session: requests.Session = field(init=False, repr=False)
    _jwt_cache: dict[str, tuple[dict[str, str], float]] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import requests

        if not self.vapid_subject.startswith(("mailto:", "https:")):
            raise ValueError("vapid_subject must be a mailto: or https: URL (RFC 8292)")
        self._vapid = Vapid02(load_vapid_private_key(self.vapid_private_key))
        self._session = requests.Session()
        # A push service answers; it never redirects. Following a redirect would POST
        # wherever the endpoint's owner (any user can register one) points it: an
        # intranet host. requests raises TooManyRedirects instead of following.
        self._session.max_redirects = 0
        self._jwt_cache = {}
        self._lock = threading.Lock()

    @property
    def public_key(self) -> str:
        return public_key_of(self._vapid.private_key)

    def close(self) -> None:
        self._session.close()

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        """``Authorization: vapid t=<ES256 JWT>, k=<public key>`` for the endpoint's
        origin; one signature per origin, reused until an hour before it expires."""
        aud = audience(endpoint)
        now = self.clock()
        with self._lock:
            cached = self._jwt_cache.get(aud)
            if cached is not None and cached[1] - now > VAPID_RENEW_SECONDS:
                return dict(cached[0])
            exp = int(now) + VAPID_JWT_SECONDS
            headers = self._vapid.sign({"aud": aud, "exp": exp, "sub": self.vapid_subject})
            self._jwt_cache[aud] = (headers, float(exp))
            return dict(headers)

    def send(self, messages: Sequence[Message]) -> list[Result]:
        return [self._send_one(m) for m in messages]

    def _send_one(self, message: Message) -> Result:
        import requests
        from pywebpush import WebPusher

        try:
            info = parse_subscription(message.recipient, self.allow_loopback_http)
        except InvalidSubscription as exc:
            return Result.permanent_error(message, "invalid_subscription", str(exc))
        urgency = Urgency(message.urgency)
        headers = self.vapid_headers(info["endpoint"])
        headers["Urgency"] = URGENCY_HEADER[urgency]
        headers["Topic"] = topic_for(message.idempotency_key)
        try:
            response = WebPusher(info, requests_session=self._session).send(
                payload_for(message),
                headers,
                ttl=TTL_SECONDS[urgency],
                content_encoding="aes128gcm",
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            return Result.transient_error(message, "timeout", describe(exc))
        except requests.TooManyRedirects:
            return Result.permanent_error(
                message, "endpoint_redirected", "a redirect, not followed"
            )
        except requests.RequestException as exc:
            return Result.transient_error(message, "connection_error", describe(exc))
        except Exception as exc:  # pywebpush/http_ece refusing the subscription's keys
            return Result.permanent_error(message, "invalid_subscription", describe(exc))
        return self.classify(message, response)

    def classify(self, message: Message, response: Any) -> Result:
        status = int(response.status_code)
        detail = describe(f"HTTP {status} {response.text}")
        if status in (200, 201, 202):
            return Result.success(message, provider_message_id=response.headers.get("Location"))
        if status in (404, 410):
            return Result.permanent_error(message, "subscription_gone", detail)
        if status >= 500 or status in (408, 429):
            return Result.transient_error(
                message,
                f"http_{status}",
                detail,
                retry_after=retry_after_header(response.headers.get("Retry-After"), self.clock),
            )
        if status in (401, 403):
            return Result.permanent_error(message, "vapid_rejected", detail)
        if status == 413:
            return Result.permanent_error(message, "payload_too_large", detail)
        return Result.permanent_error(message, f"http_{status}", detail)
