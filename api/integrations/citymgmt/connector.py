"""The city management connector's spec for the layer. Docs: docs/integrations.md#city-management.

Outbound only: every ``pull_every_seconds`` the layer asks ``pull`` for the cases changed
after its stored cursor (``GET <url>/cases?cursor=&limit=``), receives each as one
record with source id ``<case id>@<version>`` and stores the returned cursor with them;
``apply_case`` applies each record.
"""

from __future__ import annotations

from typing import Any

from api.integrations.citymgmt.cases import InvalidCase, apply_case, source_id_of
from api.integrations.errors import PermanentError
from api.integrations.registry import ConnectorSpec, PullContext, PullResult

NAME = "citymgmt"
PAGE_SIZE = 100


def handle(source_id: str, payload: dict[str, Any]) -> None:
    apply_case(source_id, payload)


def pull(ctx: PullContext) -> PullResult:
    body = ctx.http.get_json("/cases", {"cursor": ctx.cursor, "limit": PAGE_SIZE})
    cases = body.get("cases") if isinstance(body, dict) else None
    cursor = body.get("next_cursor") if isinstance(body, dict) else None
    if not isinstance(cases, list) or not isinstance(cursor, str):
        raise PermanentError("GET /cases: not the documented page shape")
    records: list[tuple[str, dict]] = []
    for index, case in enumerate(cases):
        try:
            records.append((source_id_of(case), case))
        except InvalidCase:
            # One broken case must not stop the feed: it is received under a key of its
            # own and becomes a dead letter in apply_case, where an operator sees it.
            payload = case if isinstance(case, dict) else {"value": case}
            records.append((f"invalid:{cursor}:{index}", payload))
    return PullResult(records=records, cursor=cursor, more=bool(body.get("has_more")))


SPEC = ConnectorSpec(
    name=NAME,
    title="数字城管",
    handle=handle,
    pull=pull,
    pull_every_seconds=300,
)
