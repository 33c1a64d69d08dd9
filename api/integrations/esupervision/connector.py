"""The e-supervision connector on the connector layer (api/integrations): the webhook's
source id, the handler and a pull of the system's event list. Docs:
docs/integrations.md#e-supervision."""

from __future__ import annotations

import logging
from typing import Any

from api.integrations.esupervision.actions import EventRejected, handle, source_id_of

logger = logging.getLogger(__name__)

PAGE = 200


def pull(context: Any) -> Any:
    """One page of ``GET <url>/events?after=<cursor>&limit=200``."""
    from api.integrations.errors import PermanentError
    from api.integrations.registry import PullResult

    data = context.http.get_json("events", params={"after": context.cursor, "limit": PAGE})
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise PermanentError("the event list is not {events, cursor, more}")
    records = []
    for event in data["events"]:
        try:
            records.append((source_id_of(event), event))
        except (EventRejected, AttributeError):
            # Without an id it cannot be stored once; one bad event never blocks the feed.
            logger.warning("esupervision: an event without a valid event_id was skipped")
    return PullResult(
        records=records, cursor=str(data.get("cursor") or context.cursor), more=bool(data["more"])
    )


def install() -> None:
    from api.integrations import registry

    registry.register(
        registry.ConnectorSpec(
            name="esupervision",
            title="电子监察",
            handle=handle,
            source_id_of=source_id_of,
            pull=pull,
        )
    )
