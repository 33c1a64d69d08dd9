"""Celery tasks of the exchange. Docs: docs/exchange.md#fan-out.

``fan_out_dispatch(dispatch_id)`` tells every pending recipient unit's clerks that a
document waits for sign-for. It is enqueued on commit of the dispatch and is safe
to run twice (or concurrently): each receipt is handled in its own short
transaction under a row lock and marked ``notified_at``, and the notification's
dedup key ``exchange:{receipt id}`` is unique per clerk, so a repeat sends nothing.
A receipt recalled or signed for before the worker reached it is skipped.
``requeue_unsent`` (beat) re-enqueues dispatches whose fan-out never finished (a
broker outage at commit time).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from api.exchange import actions
from api.exchange.models import Dispatch, DispatchState, Receipt, ReceiptState

logger = logging.getLogger(__name__)

CHUNK = 200


@shared_task(name="api.exchange.tasks.fan_out_dispatch")
def fan_out_dispatch(dispatch_id: int) -> dict | None:
    if not Dispatch.objects.filter(pk=dispatch_id).exists():
        logger.warning("fan_out_dispatch: dispatch %s does not exist", dispatch_id)
        return None
    notified = 0
    last_id = 0
    while True:
        chunk = list(
            Receipt.objects.filter(
                dispatch_id=dispatch_id,
                state=ReceiptState.PENDING,
                notified_at__isnull=True,
                pk__gt=last_id,
            )
            .order_by("pk")
            .values_list("pk", "unit_id")[:CHUNK]
        )
        if not chunk:
            break
        clerks = actions.clerks_by_unit(sorted({unit_id for _pk, unit_id in chunk}))
        for receipt_id, unit_id in chunk:
            notified += int(actions.notify_receipt(receipt_id, clerks.get(unit_id, [])))
        last_id = chunk[-1][0]
    finished = actions.mark_fanned_out(dispatch_id)
    return {"dispatch": dispatch_id, "notified": notified, "finished_now": finished}


@shared_task(name="api.exchange.tasks.requeue_unsent")
def requeue_unsent(older_than_seconds: int = 300) -> int:
    """Re-enqueue dispatches still ``sending`` after ``older_than_seconds``."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Dispatch.objects.filter(state=DispatchState.SENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:1000]
    )
    for dispatch_id in ids:
        fan_out_dispatch.delay(dispatch_id)
    return len(ids)
