"""``absence_changed``: an absence started, ended or was cancelled (docs/delegation.md#signal).

Receivers get ``absence`` (a fresh ``Absence`` read after commit, ``user`` loaded)
and ``change`` — ``"started"``, ``"ended"`` or ``"cancelled"``. The signal is sent
after the transaction that recorded the transition commits, exactly once per
transition (the ``started_signalled``/``ended_signalled`` flags are claimed with a
conditional UPDATE, so a second sweep or a concurrent request sends nothing).

Guarantees receivers may rely on:
* every ``ended`` is preceded by exactly one ``started`` for the same absence;
* ``cancelled`` is only sent for an absence that never started (no ``started``);
* a receiver that raises is logged and does not stop the others (``send_robust``);
  the transition is not sent again, so a receiver does its work in its own
  transaction and must not rely on a retry.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

CHANGES = ("started", "ended", "cancelled")

absence_changed = Signal()

# Sent after commit when an account's failures from all addresses cross
# GOVDESK_LOGIN_ACCOUNT_CEILING (docs/identity.md#lockout), with ``username`` and
# ``failures``; api.notify alerts the city IT admins. Receivers must not raise.
login_ceiling_reached = Signal()


def _send(absence_id: int, change: str) -> None:
    from api.accounts.models import Absence

    absence = Absence.objects.select_related("user").filter(pk=absence_id).first()
    if absence is None:
        return
    for receiver, result in absence_changed.send_robust(
        sender=Absence, absence=absence, change=change
    ):
        if isinstance(result, Exception):
            logger.error(
                "absence_changed receiver %r failed for absence %s (%s)",
                receiver,
                absence_id,
                change,
                exc_info=result,
            )


def send_after_commit(absence_id: int, change: str) -> None:
    """Queue the signal for when the current transaction commits."""
    if change not in CHANGES:
        raise ValueError(f"unknown absence change {change!r}")
    transaction.on_commit(lambda: _send(absence_id, change))
