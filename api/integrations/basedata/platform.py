"""Calls to the base-data platform: the catalogue feed (pulled) and the query API.

Docs: docs/integrations.md#base-data. Server to server: the connector's URL and
secret come from the connector layer's configuration
(``GOVDESK_INTEGRATION_BASEDATA_URL`` and ``..._SECRET`` or ``..._SECRET_FILE``) and
every request goes through the layer's one HTTP client. The secret travels as a bearer
token; the person and unit a query is made for travel in ``X-GovDesk-On-Behalf-Of``
so the platform's own log can name them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Bridge to the connector layer (api/integrations/config.py, http.py): the only two
# names this module needs from it.
from api.integrations.basedata import layer_bridge as bridge

NAME = "basedata"


class NotConfigured(Exception):
    pass


class Unavailable(Exception):
    """Timeout, connection failure, 429/5xx: worth trying again later."""


class Refused(Exception):
    """The platform answered, but not with rows (4xx, a malformed body)."""


@dataclass(frozen=True)
class Answer:
    rows: list[dict[str, Any]]
    total: int


def _headers(secret: str, on_behalf_of: str = "") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    if on_behalf_of:
        headers["X-GovDesk-On-Behalf-Of"] = on_behalf_of
    return headers


def fetch_catalogue(config: Any, http: Any, cursor: str, limit: int = 100) -> dict[str, Any]:
    """One page of the catalogue after ``cursor``: ``{"items", "next_cursor", "more"}``."""
    params = {"limit": str(limit)}
    if cursor:
        params["cursor"] = cursor
    body = bridge.get_json(
        http, config, "/catalogue", params=params, headers=_headers(bridge.secret(config))
    )
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise Refused("catalogue: the answer has no items list")
    return body


def query(source_id: str, parameters: dict[str, Any], limit: int, *, on_behalf_of: str) -> Answer:
    config = bridge.load_config(NAME)
    if config is None:
        raise NotConfigured()
    body = bridge.post_json(
        config,
        f"/datasets/{source_id}/query",
        {"parameters": parameters, "limit": limit},
        headers=_headers(bridge.secret(config), on_behalf_of),
    )
    rows = body.get("rows") if isinstance(body, dict) else None
    total = body.get("total") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise Refused("query: the answer has no rows list")
    if not isinstance(total, int) or isinstance(total, bool):
        total = len(rows)
    return Answer(rows=rows, total=total)
