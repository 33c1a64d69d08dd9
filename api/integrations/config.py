"""A connector's configuration, read from the environment. Docs: docs/integrations.md#secrets.

``GOVDESK_INTEGRATION_<NAME>_URL``         the external system's base URL
``GOVDESK_INTEGRATION_<NAME>_SECRET``      the shared secret (webhook HMAC, pull credential)
``GOVDESK_INTEGRATION_<NAME>_SECRET_FILE`` or a file holding it (a mounted secret); wins
``GOVDESK_INTEGRATION_<NAME>_PULL_SECONDS`` the pull interval (default: the connector's)

Read on every use rather than once in settings: the names depend on the registered
connectors, and an operator rotating a secret file needs no restart. A connector without
a URL and a secret is "not configured": it neither pulls nor accepts webhooks, and health
says so. The secret never appears in ``repr``, logs, errors or the audit log.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

MIN_PULL_SECONDS = 10
MAX_PULL_SECONDS = 7 * 24 * 3600


def env_prefix(name: str) -> str:
    return f"GOVDESK_INTEGRATION_{name.upper()}_"


@dataclass(frozen=True)
class ConnectorConfig:
    name: str
    url: str = ""
    secret: str = field(default="", repr=False)
    pull_seconds: int = 300

    @property
    def configured(self) -> bool:
        return bool(self.url and self.secret)

    def endpoint(self, path: str) -> str:
        """``path`` joined to the base URL with exactly one slash between."""
        return self.url.rstrip("/") + "/" + path.lstrip("/")


def _secret(prefix: str, name: str) -> str:
    path = os.environ.get(prefix + "SECRET_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text("utf-8").strip()
        except OSError as exc:
            # The path is not secret; its content is, and it is never read into the log.
            logger.error("integration %s: cannot read its secret file %s: %s", name, path, exc)
            return ""
    return os.environ.get(prefix + "SECRET", "").strip()


def _seconds(raw: str | None, default: int, name: str) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        logger.error("integration %s: PULL_SECONDS=%r is not a whole number", name, raw)
        return default
    return min(max(value, MIN_PULL_SECONDS), MAX_PULL_SECONDS)


def load(name: str, default_pull_seconds: int = 300) -> ConnectorConfig:
    prefix = env_prefix(name)
    return ConnectorConfig(
        name=name,
        url=os.environ.get(prefix + "URL", "").strip(),
        secret=_secret(prefix, name),
        pull_seconds=_seconds(os.environ.get(prefix + "PULL_SECONDS"), default_pull_seconds, name),
    )
