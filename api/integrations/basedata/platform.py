"""Calls to the base-data platform: the catalogue feed (pulled) and the query API.

Docs: docs/integrations.md#base-data. Server to server through the connector layer:
the URL and secret are the layer's configuration (``GOVDESK_INTEGRATION_BASEDATA_URL``
and ``..._SECRET`` or ``..._SECRET_FILE``), every request goes through the layer's one
HTTP client, which signs it with the secret (``X-GovDesk-Timestamp`` /
``X-GovDesk-Signature``) and maps failures to ``TransientError`` / ``PermanentError``.
The person and unit a query is made for travel in the signed body (``requested_by``)
so the platform's own log names them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.integrations import config as connector_config
from api.integrations import http
from api.integrations.errors import PermanentError, TransientError

NAME = "basedata"
CATALOGUE_PAGE = 100


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


def fetch_catalogue(client: http.Client, cursor: str) -> dict[str, Any]:
    """One page of catalogue changes after ``cursor``: ``{"items", "next_cursor", "more"}``
    (the layer's errors pass through: the pull is retried by the layer)."""
    params = {"limit": str(CATALOGUE_PAGE)}
    if cursor:
        params["cursor"] = cursor
    body = client.get_json("/catalogue", params)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("items"), list)
        or not isinstance(body.get("next_cursor"), str)
    ):
        raise PermanentError("GET /catalogue: the answer has no items list or next_cursor")
    return body


def query(
    source_id: str, parameters: dict[str, Any], limit: int, *, requested_by: dict[str, Any]
) -> Answer:
    config = connector_config.load(NAME)
    if not config.configured:
        raise NotConfigured()
    body_out = {"parameters": parameters, "limit": limit, "requested_by": requested_by}
    try:
        with http.client(config) as client:
            body = client.post_json(f"/datasets/{source_id}/query", body_out)
    except TransientError as exc:
        raise Unavailable(str(exc)) from None
    except PermanentError as exc:
        raise Refused(str(exc)) from None
    rows = body.get("rows") if isinstance(body, dict) else None
    total = body.get("total") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise Refused("query: the answer has no rows list")
    if not isinstance(total, int) or isinstance(total, bool):
        total = len(rows)
    return Answer(rows=rows, total=total)
