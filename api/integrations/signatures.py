"""Verifying an inbound webhook's signature. Docs: docs/integrations.md#signatures.

``X-GovDesk-Timestamp: <unix seconds>`` and ``X-GovDesk-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<raw body>"`` with the connector's secret. A timestamp more
than ``WINDOW_SECONDS`` from our clock, either way, is refused; inside the window a
signature is accepted once (``SeenSignature``). GovDesk's own code, independent of
cityfakes/signing.py that senders and tests sign with.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-GovDesk-Timestamp"
SIGNATURE_HEADER = "X-GovDesk-Signature"
WINDOW_SECONDS = 300
_HEX = frozenset("0123456789abcdef")


def check(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> tuple[str, str]:
    """(reason, signature hex): reason is "" when valid, else ``missing``,
    ``malformed``, ``old``, ``future`` or ``mismatch``."""
    raw_time = (headers.get(TIMESTAMP_HEADER) or "").strip()
    raw_sig = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not raw_time or not raw_sig:
        return "missing", ""
    given = raw_sig[7:].lower() if raw_sig.startswith("sha256=") else ""
    if not (raw_time.isascii() and raw_time.isdigit()) or len(raw_time) > 12:
        return "malformed", ""
    if len(given) != 64 or not set(given) <= _HEX:
        return "malformed", ""
    age = (time.time() if now is None else now) - int(raw_time)
    if age > WINDOW_SECONDS:
        return "old", ""
    if age < -WINDOW_SECONDS:
        return "future", ""
    expected = hmac.new(
        secret.encode("utf-8"), raw_time.encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(given, expected):
        return "mismatch", ""
    return "", expected
