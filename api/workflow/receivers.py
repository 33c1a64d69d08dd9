"""Delegation (AB岗) at the start and end of an absence. Docs: docs/workflow.md#delegation.

``absence_changed`` is sent after commit, once per transition:
* ``started``: A's open and waiting tasks move to B (the backup acting for A at
  that moment), marked on behalf of A; tasks created while A is away are routed to B
  by the engine (routing.route).
* ``ended`` / ``cancelled``: tasks still open or waiting at B for A move back to A;
  what B already did stays done and shows "B 代 A" in the trail.
Each task moves in its own transaction (instance lock, then task lock), so a
receiver racing an approval either moves an open task or finds it done and skips it.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver

from api.accounts.signals import absence_changed

logger = logging.getLogger(__name__)


@receiver(absence_changed, dispatch_uid="workflow.absence_changed")
def on_absence_changed(sender, absence, change: str, **kwargs) -> None:
    from api.workflow import actions, routing

    user = absence.user
    if change == "started":
        backup, behalf = routing.route(user)
        if behalf is None:  # no backup, or the absence is no longer in effect
            return
        moved = actions.delegate_open_tasks(user, backup)
    elif change in ("ended", "cancelled"):
        moved = actions.undelegate_open_tasks(user)
    else:
        return
    logger.info("absence %s %s: moved tasks %s", absence.pk, change, moved)
