"""The ``basedata`` connector's spec for the connector layer: the catalogue is pulled.

Docs: docs/integrations.md#base-data. Every ``pull_every_seconds`` (default 1 hour;
``GOVDESK_INTEGRATION_BASEDATA_PULL_SECONDS``) the layer asks for the catalogue's
changes after the stored cursor; each entry becomes a record whose source id is
``<dataset id>@<version>`` (received once), applied by ``catalogue.apply_entry``. An
entry that cannot be applied (unknown owner unit code, a bad field kind) is a
permanent error: a dead letter an operator fixes (e.g. adds the unit code) and replays.
"""

from __future__ import annotations

from api.integrations.basedata import catalogue, platform
from api.integrations.errors import PermanentError
from api.integrations.registry import ConnectorSpec, PullContext, PullResult

PULL_SECONDS = 3600


def handle(source_id: str, payload: dict) -> None:
    try:
        catalogue.apply_entry(payload)
    except catalogue.InvalidEntry as exc:
        raise PermanentError(f"{source_id}: {exc}") from None


def pull(ctx: PullContext) -> PullResult:
    body = platform.fetch_catalogue(ctx.http, ctx.cursor)
    records = []
    for item in body["items"]:
        if not isinstance(item, dict):
            raise PermanentError("GET /catalogue: an item is not an object")
        records.append((catalogue.source_id_of(item)[:200], item))
    return PullResult(records=records, cursor=body["next_cursor"], more=body.get("more") is True)


SPEC = ConnectorSpec(
    name="basedata",
    title="基础数据库",
    handle=handle,
    pull=pull,
    pull_every_seconds=PULL_SECONDS,
)
