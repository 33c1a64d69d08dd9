"""The video platform's API as GovDesk calls it (server to server). Docs:
docs/integrations.md#video.

Through the connector layer's one outbound client (api/integrations/http.py): the
configuration is the connector's (``GOVDESK_INTEGRATION_VIDEO_URL``, ``..._SECRET`` or
``..._SECRET_FILE``), every request is signed with the secret, and a failure is the
layer's ``TransientError`` (unreachable, 429/502/503/504) or ``PermanentError``.
"""

from __future__ import annotations

from typing import Any

from api.integrations import config as connector_config
from api.integrations.config import ConnectorConfig
from api.integrations.errors import PermanentError, TransientError
from api.integrations.http import Client, client

NAME = "video"
PULL_SECONDS = 300


def config() -> ConnectorConfig:
    return connector_config.load(NAME, PULL_SECONDS)


def camera_changes(http: Client, cursor: str, limit: int = 100) -> dict[str, Any]:
    """One page of the camera change feed after ``cursor``: ``{"cameras", "cursor", "more"}``."""
    body = http.get_json("api/cameras", params={"cursor": cursor, "limit": limit})
    if not isinstance(body, dict) or not isinstance(body.get("cameras"), list):
        raise PermanentError("GET api/cameras: not a camera page")
    return body


def play_url(camera_source_id: str, viewer: str, ttl_seconds: int) -> dict[str, Any]:
    """A signed HLS URL for ``viewer`` (an opaque id) on one camera: ``{"url", "expires_at"}``
    (expires_at in unix seconds). Raises ``TransientError`` when not configured."""
    cfg = config()
    if not cfg.configured:
        raise TransientError("the video platform is not configured")
    with client(cfg) as http:
        body = http.post_json(
            "api/play-urls",
            {"camera_id": camera_source_id, "viewer": viewer, "ttl_seconds": ttl_seconds},
        )
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        raise PermanentError("POST api/play-urls: not a play URL")
    return body
