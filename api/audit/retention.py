"""Retention: deleting audit events older than GOVDESK_AUDIT_RETENTION_DAYS.

Docs: docs/audit.md#retention-and-pruning. Events are deleted only as a prefix of the chain (in
``seq`` order, stopping at the first event that is still within retention, so clock
skew can never punch a hole in the middle), in batches, each batch in its own short
transaction that

1. locks the chain head (appends wait for a moment, nothing else),
2. verifies the rows it is about to delete (a range that does not verify is kept as
   evidence: nothing is deleted and an ``audit.prune_refused`` event is recorded),
3. deletes them with ``SET LOCAL govdesk.audit_prune = 'on'`` (the PostgreSQL
   trigger of migration 0003 refuses any other DELETE),
4. moves the head's anchor forward (``first_seq``, ``anchor_hash`` = the hash the
   first kept event links to), so ``verify_audit`` still verifies the remainder, and
5. records an ``audit.pruned`` event saying what went.

Running it twice is harmless: the second run finds nothing old enough. Export what
you must archive first (``manage.py export_audit``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from api.audit.models import AuditChainHead, AuditEvent, AuditResult
from api.audit.recorder import record
from api.audit.verification import verify_chain
from api.common.datetimes import client_datetime

logger = logging.getLogger(__name__)

MIN_RETENTION_DAYS = 184
DEFAULT_BATCH = 5_000


@dataclass
class PruneReport:
    deleted: int = 0
    batches: int = 0
    first_kept_seq: int | None = None
    refused: bool = False
    cutoff: datetime | None = None


def retention_days() -> int:
    return max(int(settings.GOVDESK_AUDIT_RETENTION_DAYS), MIN_RETENTION_DAYS)


def expired_prefix_end(cutoff: datetime, first_seq: int, last_seq: int) -> int:
    """The last seq (at most ``last_seq``) of the chain's prefix whose events all
    occurred before ``cutoff`` (``first_seq - 1`` when there is none)."""
    kept = (
        AuditEvent.objects.filter(seq__gte=first_seq, seq__lte=last_seq, occurred_at__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    return last_seq if kept is None else kept - 1


def prune_expired(
    *, now: datetime | None = None, batch_size: int = DEFAULT_BATCH, max_batches: int | None = None
) -> PruneReport:
    """Delete the expired prefix of the chain; see the module docstring."""
    now = now or timezone.now()
    days = retention_days()
    cutoff = now - timedelta(days=days)
    report = PruneReport(cutoff=cutoff)
    # Never beyond the chain's end as it was when the run began: the run's own
    # ``audit.pruned`` events are not for it to delete.
    stop_seq: int | None = None
    while max_batches is None or report.batches < max_batches:
        refusal: dict | None = None
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
            if head is None:
                break
            first = head.first_seq
            if stop_seq is None:
                stop_seq = head.last_seq
            end = min(expired_prefix_end(cutoff, first, stop_seq), first + batch_size - 1)
            if end < first:
                report.first_kept_seq = first
                break
            check = verify_chain(until_seq=end, max_problems=5)
            if not check.ok:
                refusal = {
                    "from_seq": first,
                    "to_seq": end,
                    "problems": [str(p) for p in check.problems],
                    "problem_count": check.problem_count,
                }
            else:
                anchor = (
                    AuditEvent.objects.filter(seq=end).values_list("hash", flat=True).first()
                    or head.last_hash
                )
                deleted = _delete_range(first, end)
                AuditChainHead.objects.filter(pk=1).update(
                    first_seq=end + 1, anchor_hash=anchor, pruned_at=now
                )
                _allow_prune(False)
                record(
                    "audit.pruned",
                    object_type="audit.auditevent",
                    detail={
                        "from_seq": first,
                        "to_seq": end,
                        "deleted": deleted,
                        "cutoff": client_datetime(cutoff),
                        "retention_days": days,
                    },
                )
                report.deleted += deleted
                report.batches += 1
                report.first_kept_seq = end + 1
        if refusal is not None:
            logger.error("audit pruning refused: the range does not verify: %s", refusal)
            record(
                "audit.prune_refused",
                object_type="audit.auditevent",
                result=AuditResult.FAILED,
                detail=refusal,
            )
            report.refused = True
            break
    return report


def _allow_prune(on: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('govdesk.audit_prune', %s, true)", ["on" if on else "off"]
            )


def _delete_range(first: int, end: int) -> int:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    _allow_prune(True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE seq >= %s AND seq <= %s",  # noqa: S608 (quoted name)
            [first, end],
        )
        return cursor.rowcount
