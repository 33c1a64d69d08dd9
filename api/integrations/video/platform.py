"""The video platform's API as GovDesk calls it (server to server, with the connector
secret). Docs: docs/integrations.md#video.

Configuration comes from the environment like every connector's
(``GOVDESK_INTEGRATION_VIDEO_URL``, ``..._SECRET`` or ``..._SECRET_FILE``); the secret is
never logged. Transport failures and 429/5xx answers are ``PlatformUnavailable``
(transient); any other refusal is ``PlatformRefused``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

NAME = "video"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


class PlatformError(Exception):
    """The video platform could not give what GovDesk asked for."""


class PlatformUnavailable(PlatformError):
    """Not configured, not reachable, or answered 429/5xx: try again later."""


class PlatformRefused(PlatformError):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"video platform refused: {status} {code}")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class PlatformConfig:
    url: str
    secret: str = ""

    def __repr__(self) -> str:  # the secret never reaches a log line
        return f"PlatformConfig(url={self.url!r})"

    @property
    def configured(self) -> bool:
        return bool(self.url and self.secret)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def config() -> PlatformConfig:
    prefix = "GOVDESK_INTEGRATION_VIDEO_"
    url = os.environ.get(prefix + "URL", "").strip()
    secret = os.environ.get(prefix + "SECRET", "")
    secret_file = os.environ.get(prefix + "SECRET_FILE", "")
    if not secret and secret_file:
        secret = Path(secret_file).read_text("utf-8").strip()
    if url and not url.endswith("/"):
        url += "/"
    return PlatformConfig(url=url, secret=secret)


def _call(method: str, path: str, *, cfg: PlatformConfig | None = None, **kwargs: Any) -> Any:
    cfg = cfg or config()
    if not cfg.configured:
        raise PlatformUnavailable("the video platform is not configured")
    headers = {"Authorization": f"Bearer {cfg.secret}", "Accept": "application/json"}
    try:
        response = httpx.request(
            method, urljoin(cfg.url, path), headers=headers, timeout=TIMEOUT, **kwargs
        )
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(f"video platform unreachable: {type(exc).__name__}") from exc
    if response.status_code in TRANSIENT_STATUSES or response.status_code >= 500:
        raise PlatformUnavailable(f"video platform answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise PlatformUnavailable("video platform answered something other than JSON") from exc
    if response.status_code >= 400:
        code = body.get("error", "") if isinstance(body, dict) else ""
        raise PlatformRefused(response.status_code, str(code))
    return body


def camera_changes(
    cursor: str, limit: int = 100, cfg: PlatformConfig | None = None
) -> dict[str, Any]:
    """One page of the camera change feed after ``cursor``: ``{"cameras", "cursor", "more"}``."""
    body = _call("GET", "api/cameras", cfg=cfg, params={"cursor": cursor, "limit": limit})
    if not isinstance(body, dict) or not isinstance(body.get("cameras"), list):
        raise PlatformUnavailable("video platform answered an unexpected camera page")
    return body


def play_url(camera_source_id: str, viewer: str, ttl_seconds: int) -> dict[str, Any]:
    """A signed HLS URL for ``viewer`` (an opaque id) on one camera: ``{"url", "expires_at"}``
    (expires_at in unix seconds)."""
    body = _call(
        "POST",
        "api/play-urls",
        json={"camera_id": camera_source_id, "viewer": viewer, "ttl_seconds": ttl_seconds},
    )
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        raise PlatformUnavailable("video platform answered an unexpected play URL")
    return body
