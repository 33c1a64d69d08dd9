"""The cap per urged person and item (催办限次), shared by task urges (api/urging) and
supervision urges (api/supervision) — both on a floor above this one.

Docs: docs/urging.md#the-cap-per-person-and-item. Within
``GOVDESK_URGE_CAP_WINDOW_MINUTES`` of the first counted urge, one person is urged about
one item at most ``GOVDESK_URGE_CAP_PER_WINDOW`` times, whoever urges; only one of
those urges (automatic ones included) may climb the reminder ladder to SMS — the others
reach the person in the app, by push and office IM. A further urge is refused.

``claim`` runs inside the caller's transaction and locks the (person, item) row: the
row is inserted if missing (``ON CONFLICT DO NOTHING``: a concurrent first urge waits
on the unique index, then finds the row) and then read ``FOR UPDATE``, so concurrent
urges of the same pair serialise and the count is never read-then-written unlocked.
A caller that urges several people claims them in ascending id order (no deadlock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from api.notify.models import UrgeWindow


@dataclass(frozen=True)
class Claim:
    allowed: bool  # False: over the cap, refuse this urge
    sms: bool  # this urge may climb to SMS (the first of the window)
    count: int  # counted urges in the window, this one included when allowed
    retry_after: int  # seconds until the window ends (when refused)


def document_item(document_id: int) -> str:
    return f"document:{document_id}"


def supervision_item(item_id: int, document_id: int | None) -> str:
    """A supervised item about a document shares the document's cap with the urges
    of its tasks: it is the same thing to the person urged."""
    return document_item(document_id) if document_id else f"supervision:{item_id}"


def window() -> timedelta:
    return timedelta(minutes=settings.GOVDESK_URGE_CAP_WINDOW_MINUTES)


def claim(person_id: int, item: str, now: datetime, *, counted: bool = True) -> Claim:
    """Take one urge of ``person_id`` about ``item`` at ``now``. ``counted=False`` (the
    automatic deadline urges, which have caps of their own) never refuses and only
    takes the SMS slot when it is free. A refused claim changes nothing."""
    UrgeWindow.objects.bulk_create(
        [UrgeWindow(person_id=person_id, item=item, window_start=now, count=0)],
        ignore_conflicts=True,
    )
    row = UrgeWindow.objects.select_for_update().get(person_id=person_id, item=item)
    span = window()
    # ``now`` may be a little older than the row (taken before waiting for the lock):
    # that is inside the window, never a reason to start a new one.
    if now - row.window_start >= span:
        row.window_start, row.count = now, 0
    if counted and row.count >= settings.GOVDESK_URGE_CAP_PER_WINDOW:
        wait = math.ceil((row.window_start + span - now).total_seconds())
        return Claim(allowed=False, sms=False, count=row.count, retry_after=max(wait, 1))
    if counted:
        row.count += 1
    sms = row.sms_at is None or now - row.sms_at >= span
    if sms:
        row.sms_at = now
    row.save(update_fields=["window_start", "count", "sms_at"])
    return Claim(allowed=True, sms=sms, count=row.count, retry_after=0)
