"""The e-supervision connector on the connector layer (api/integrations): the webhook's
source id, the handler and a pull of the system's event list. Docs:
docs/integrations.md#e-supervision."""

from __future__ import annotations

from typing import Any

from api.integrations.esupervision.actions import handle, source_id_of

PAGE = 200


def pull(context: Any) -> Any:
    """One page of ``GET <url>/events?after=<cursor>&limit=200``."""
    from api.integrations.errors import PermanentError
    from api.integrations.registry import PullResult

    base = context.config.url.rstrip("/")
    response = context.http.get(f"{base}/events", params={"after": context.cursor, "limit": PAGE})
    data = response.json()
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise PermanentError("the event list is not {events, cursor, more}")
    records = [(source_id_of(event), event) for event in data["events"]]
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
