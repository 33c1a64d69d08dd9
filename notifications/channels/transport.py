"""Minimal JSON-over-HTTP helper on urllib (docs/notifications.md).

Classifies transport failures the way every channel needs: connection errors,
timeouts and 5xx/429 are transient; other 4xx are permanent.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class TransportError(Exception):
    """The request did not produce an HTTP response (refused, reset, timeout)."""


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResponse:
    """Perform one request. HTTP error statuses are returned, not raised."""

    if not url.startswith(("http://", "https://")):
        raise ValueError(f"refusing non-HTTP URL {url!r}")
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            return HttpResponse(resp.status, resp.read(), dict(resp.headers.items()))
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, exc.read() or b"", dict(exc.headers.items()))
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
        raise TransportError(str(exc)) from exc


def retry_after_seconds(resp: HttpResponse) -> float | None:
    value = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def status_is_transient(status: int) -> bool:
    return status >= 500 or status in (408, 429)
