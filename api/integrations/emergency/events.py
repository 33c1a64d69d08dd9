"""The command system's emergency event payload. Docs: docs/integrations.md#emergency.

One event version: ``{"event_id", "sequence", "type", "level", "place", "occurred_at",
"summary", "sent_at"?}``. ``sequence`` starts at 1 (the first report) and grows with
every update of the same event. A payload that breaks this raises ``InvalidEvent`` (the
layer dead-letters it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.integrations import payloads
from api.integrations.emergency.models import EventLevel


class InvalidEvent(ValueError):
    """The payload breaks the contract of docs/integrations.md#emergency."""


@dataclass(frozen=True)
class EventData:
    event_id: str
    sequence: int
    event_type: str
    level: str
    place: str
    occurred_at: datetime
    summary: str
    sent_at: datetime | None


def parse_event(payload: dict[str, Any]) -> EventData:
    if not isinstance(payload, dict):
        raise InvalidEvent("an event is a JSON object")
    sequence = payloads.positive_int(payload, "sequence", invalid=InvalidEvent)
    level = payload.get("level")
    if level not in EventLevel.values:
        raise InvalidEvent(f"level: one of {', '.join(EventLevel.values)}")
    occurred_at = payloads.when(payload, "occurred_at", required=True, invalid=InvalidEvent)
    assert occurred_at is not None  # required above
    return EventData(
        event_id=payloads.text(payload, "event_id", 64, invalid=InvalidEvent),
        sequence=sequence,
        event_type=payloads.text(payload, "type", 40, invalid=InvalidEvent),
        level=str(level),
        place=payloads.text(payload, "place", 200, invalid=InvalidEvent),
        occurred_at=occurred_at,
        summary=payloads.text(payload, "summary", 4000, invalid=InvalidEvent),
        sent_at=payloads.when(payload, "sent_at", required=False, invalid=InvalidEvent),
    )


def source_id_of(payload: dict[str, Any]) -> str:
    """The receipt id of one version of an event: ``<event id>#<sequence>`` (so an
    update is a record of its own and a repeated version is a duplicate)."""
    if not isinstance(payload, dict):
        raise InvalidEvent("an event is a JSON object")
    event_id, sequence = payload.get("event_id"), payload.get("sequence")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 64:
        raise InvalidEvent("event_id: a non-empty string of at most 64 characters")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise InvalidEvent("sequence: a positive integer")
    return f"{event_id}#{sequence}"
