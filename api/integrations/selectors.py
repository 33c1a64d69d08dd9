"""Reading the connector layer's state: health per connector, dead letters.

Docs: docs/integrations.md#health. Two queries for all connectors together (their rows,
and one grouped count of records), whatever the number of connectors or records.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from api.common.datetimes import client_datetime
from api.integrations import registry
from api.integrations.config import load
from api.integrations.models import Connector, ReceivedRecord, RecordState


def connectors_health() -> list[dict[str, Any]]:
    """One entry per registered connector: configured, last success, lag (seconds since
    the oldest record still waiting was received; 0 when none waits), consecutive
    errors, pending and dead records."""
    specs = registry.all_specs()
    rows = {row.name: row for row in Connector.objects.all()}
    counts: dict[tuple[str, str], tuple[int, Any]] = {
        (c["connector"], c["state"]): (c["n"], c["oldest"])
        for c in ReceivedRecord.objects.exclude(state=RecordState.DONE)
        .values("connector", "state")
        .annotate(n=Count("id"), oldest=Min("received_at"))
        .order_by()
    }
    now = timezone.now()
    found = []
    for spec in specs:
        row = rows.get(spec.name) or Connector(name=spec.name)
        config = load(spec.name, spec.pull_every_seconds)
        pending, oldest = counts.get((spec.name, RecordState.PENDING), (0, None))
        dead = counts.get((spec.name, RecordState.DEAD), (0, None))[0]
        found.append(
            {
                "name": spec.name,
                "title": spec.title,
                "configured": registry.configured(spec, config),
                "inbound": spec.source_id_of is not None,
                "outbound": spec.pull is not None,
                "last_success_at": row.last_success_at,
                "last_attempt_at": row.last_attempt_at,
                "next_pull_at": row.next_pull_at if spec.pull is not None else None,
                "lag_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
                "error_count": row.error_count,
                "last_error": row.last_error,
                "pending": pending,
                "dead_letters": dead,
            }
        )
    return found


HEALTH_KEYS = (
    "name",
    "configured",
    "last_success_at",
    "lag_seconds",
    "error_count",
    "dead_letters",
)


def health_block() -> list[dict[str, Any]]:
    """What /api/v1/health/ shows (no token there: no titles, errors or cursors)."""
    return [
        {
            **{key: entry[key] for key in HEALTH_KEYS},
            "last_success_at": client_datetime(entry["last_success_at"]),
        }
        for entry in connectors_health()
    ]


def dead_letters(name: str) -> QuerySet[ReceivedRecord]:
    return ReceivedRecord.objects.filter(connector=name, state=RecordState.DEAD)
