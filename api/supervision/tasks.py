"""Beat task of supervision: refresh the traffic lights and escalate red items.

Docs: docs/supervision.md#escalation. Safe to run twice (api/supervision/actions.py
``refresh_item`` locks each item and caps escalations).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="api.supervision.tasks.refresh_supervision_lights")
def refresh_supervision_lights() -> int:
    from api.supervision.actions import refresh_open_items

    return refresh_open_items()
