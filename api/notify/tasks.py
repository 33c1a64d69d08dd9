"""Celery tasks of api.notify. Docs: docs/notifications.md#the-outbox-and-the-worker.

* ``deliver(ids)`` — claim and send those outbox rows. ``acks_late`` and
  ``reject_on_worker_lost``: a worker killed mid-delivery leaves the message on the
  broker for another worker; the claim/lease in api/notify/delivery.py makes the
  second run harmless (a row already sent is not claimable).
* ``sweep()`` (beat, every 30 s) — re-enqueues rows that are due (retry backoff
  over, or queued while the broker was down) and rows whose lease ran out because
  the worker holding them died.
* ``run_ladder()`` (beat, every 30 s) — the later rungs (SMS, escalation).

All three are safe to run twice or concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


def enqueue(ids: Iterable[int]) -> None:
    """Queue delivery of ``ids`` now (the sweep; actions enqueue after commit through
    ``actions.enqueue_deliveries``). A broker failure is logged, not raised: the rows
    are pending and the next sweep sends them."""
    from api.notify.actions import delivery_chunks

    for chunk in delivery_chunks(list(ids)):
        try:
            deliver.delay(chunk)
        except Exception:
            logger.warning("could not enqueue deliveries %s; the sweep will", chunk, exc_info=True)


@shared_task(name="api.notify.tasks.deliver", acks_late=True, reject_on_worker_lost=True)
def deliver(ids: list[int]) -> dict[str, int]:
    from api.notify.delivery import deliver as deliver_rows

    return deliver_rows(ids)


@shared_task(name="api.notify.tasks.sweep", acks_late=True, reject_on_worker_lost=True)
def sweep() -> int:
    from api.notify.delivery import due_ids

    ids = due_ids(timezone.now())
    enqueue(ids)
    return len(ids)


@shared_task(name="api.notify.tasks.run_ladder", acks_late=True, reject_on_worker_lost=True)
def run_ladder() -> dict[str, dict[str, int]]:
    from api.notify.ladder import run

    return run(timezone.now())
