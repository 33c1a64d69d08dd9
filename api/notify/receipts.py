"""SMS delivery receipts: the SMSC's word on whether each SMS reached the handset.

Docs: docs/notifications.md#delivery-receipts. The SMPP channel gives every accepted
part a message id (``Result.provider_part_ids``); the worker records them
(``record_parts``) and the receipt receiver (``manage.py notify_smpp_receipts``, or
the worker's own transceiver session) records each receipt (``record_receipt``).
Either may come first: ``SmsPart.message_id`` is unique and each side completes the
row the other started. A delivery's ``receipt_state`` is then

* ``delivered`` when every part was delivered,
* ``failed`` as soon as one part was undeliverable / rejected / deleted,
* ``expired`` when one part expired at the SMSC (and none failed),
* blank while receipts are outstanding.

Both functions are safe to call twice with the same input (a receipt the SMSC sends
again because our answer was lost changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from api.notify.models import Delivery, ReceiptState, SmsPart
from notifications.channels.sms_smpp import Receipt


def record_parts(delivery_id: int, part_ids: Sequence[str], now: datetime) -> None:
    """The SMSC accepted ``delivery_id`` as these parts."""
    ids = [i for i in part_ids if i]
    if not ids:
        return
    with transaction.atomic():
        SmsPart.objects.bulk_create(
            [SmsPart(message_id=i[:65], delivery_id=delivery_id, created_at=now) for i in ids],
            ignore_conflicts=True,
        )
        # A receipt that came first left its row without a delivery.
        SmsPart.objects.filter(message_id__in=ids, delivery__isnull=True).update(
            delivery_id=delivery_id
        )
        settle(delivery_id, now)


def record_receipt(receipt: Receipt, now: datetime | None = None) -> int | None:
    """Store one receipt; returns the delivery it settled (None: not matched yet, or an
    intermediate receipt such as ENROUTE, which changes nothing)."""
    if receipt.state not in ReceiptState.values:
        return None
    now = now or timezone.now()
    message_id = receipt.message_id[:65]
    with transaction.atomic():
        SmsPart.objects.bulk_create(
            [SmsPart(message_id=message_id, created_at=now)], ignore_conflicts=True
        )
        part = SmsPart.objects.select_for_update().get(message_id=message_id)
        part.receipt_state = receipt.state
        part.stat = receipt.stat[:10]
        part.error = receipt.error[:10]
        part.receipt_at = now
        part.save(update_fields=["receipt_state", "stat", "error", "receipt_at"])
        if part.delivery_id is None:
            return None
        settle(part.delivery_id, now)
        return part.delivery_id


def settle(delivery_id: int, now: datetime) -> str:
    """Recompute the delivery's receipt state from its parts (see the module docstring)."""
    states = list(
        SmsPart.objects.filter(delivery_id=delivery_id).values_list("receipt_state", flat=True)
    )
    state = ""
    if ReceiptState.FAILED in states:
        state = ReceiptState.FAILED
    elif ReceiptState.EXPIRED in states:
        state = ReceiptState.EXPIRED
    elif states and all(s == ReceiptState.DELIVERED for s in states):
        state = ReceiptState.DELIVERED
    if state:
        Delivery.objects.filter(pk=delivery_id).exclude(receipt_state=state).update(
            receipt_state=state, receipt_at=now
        )
    return state
