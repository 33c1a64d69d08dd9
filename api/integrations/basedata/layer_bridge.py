"""The few things this connector asks of the connector layer (api/integrations/):
its configuration, its secret and its HTTP client. Docs: docs/integrations.md#base-data.

Kept in one module so the rest of the connector does not depend on the layer's
internals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class _Config:
    url: str
    secret: str


def load_config(name: str) -> Any:
    """The connector's configuration, or None when it is not configured."""
    prefix = f"GOVDESK_INTEGRATION_{name.upper()}_"
    url = os.environ.get(prefix + "URL", "")
    secret_value = os.environ.get(prefix + "SECRET", "")
    secret_file = os.environ.get(prefix + "SECRET_FILE", "")
    if not secret_value and secret_file:
        with open(secret_file, encoding="utf-8") as handle:
            secret_value = handle.read().strip()
    if not url or not secret_value:
        return None
    return _Config(url=url.rstrip("/"), secret=secret_value)


def secret(config: Any) -> str:
    return str(config.secret)


def _send(method: str, url: str, **kwargs: Any) -> Any:
    from api.integrations.basedata import platform

    try:
        response = httpx.request(method, url, timeout=10.0, **kwargs)
    except httpx.TransportError as exc:
        raise platform.Unavailable(type(exc).__name__) from None
    if response.status_code in (429, 502, 503, 504):
        raise platform.Unavailable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise platform.Refused(f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise platform.Refused("not JSON") from None


def post_json(config: Any, path: str, body: dict[str, Any], *, headers: dict[str, str]) -> Any:
    return _send("POST", config.url + path, json=body, headers=headers)


def get_json(
    http: Any, config: Any, path: str, *, params: dict[str, str], headers: dict[str, str]
) -> Any:
    return _send("GET", config.url + path, params=params, headers=headers)
