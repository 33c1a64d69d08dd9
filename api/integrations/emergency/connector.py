"""The emergency command connector's spec for the layer. Docs: docs/integrations.md#emergency.

Inbound only: the command system posts each version of an event to the layer's webhook
(``POST /api/v1/integrations/emergency/events/``); the receipt's source id is
``<event id>#<sequence>`` and ``apply_event`` applies it.
"""

from __future__ import annotations

from typing import Any

from api.integrations.emergency.actions import apply_event
from api.integrations.emergency.events import source_id_of
from api.integrations.registry import ConnectorSpec

NAME = "emergency"


def handle(source_id: str, payload: dict[str, Any]) -> None:
    apply_event(source_id, payload)


SPEC = ConnectorSpec(name=NAME, title="应急指挥", handle=handle, source_id_of=source_id_of)
