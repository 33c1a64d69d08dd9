"""Signing of GovDesk integration requests (docs/integrations.md#signatures).

Both directions use one scheme: header ``X-GovDesk-Timestamp`` (unix seconds) and
``X-GovDesk-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` with the
connector's shared secret. The external system signs the webhooks it sends to GovDesk;
GovDesk's outbound client signs its pulls (a GET signs the empty body). Plain Python:
the fakes, the tests and an integrator's own scripts use it; GovDesk verifies with its
own code (api/integrations/signatures.py), so a test that signs here and is accepted
there checks the two against each other.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-GovDesk-Timestamp"
SIGNATURE_HEADER = "X-GovDesk-Signature"
WINDOW_SECONDS = 300


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers that sign ``body`` (now, unless ``timestamp`` is given)."""
    when = int(time.time()) if timestamp is None else int(timestamp)
    return {
        TIMESTAMP_HEADER: str(when),
        SIGNATURE_HEADER: "sha256=" + signature(secret, body, when),
    }


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    window: int = WINDOW_SECONDS,
) -> str:
    """ "" when ``headers`` sign ``body`` with ``secret`` inside the window, else the
    reason: ``missing``, ``malformed``, ``old``, ``future`` or ``mismatch``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_time = lowered.get(TIMESTAMP_HEADER.lower(), "")
    raw_sig = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not raw_time or not raw_sig:
        return "missing"
    if not raw_time.isdigit() or len(raw_time) > 12 or not raw_sig.startswith("sha256="):
        return "malformed"
    age = (time.time() if now is None else now) - int(raw_time)
    if age > window:
        return "old"
    if age < -window:
        return "future"
    if not hmac.compare_digest(raw_sig[7:], signature(secret, body, int(raw_time))):
        return "mismatch"
    return ""
