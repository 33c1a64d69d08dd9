"""Celery tasks of the audit app. Docs: docs/audit.md#retention-and-pruning.

``api.audit.tasks.prune_audit_events`` runs daily from beat (``prune-audit`` in
``settings.CELERY_BEAT_SCHEDULE``). It is safe to run twice, and two runs at once
serialise on the chain head.
"""

from __future__ import annotations

import logging

from celery import shared_task

from api.audit.retention import DEFAULT_BATCH, prune_expired

logger = logging.getLogger(__name__)


@shared_task(name="api.audit.tasks.prune_audit_events", ignore_result=True)
def prune_audit_events(batch_size: int = DEFAULT_BATCH) -> dict:
    """Delete the expired prefix of the audit chain; returns a JSON summary."""
    report = prune_expired(batch_size=batch_size)
    summary = {
        "deleted": report.deleted,
        "batches": report.batches,
        "first_kept_seq": report.first_kept_seq,
        "refused": report.refused,
        "cutoff": report.cutoff.isoformat() if report.cutoff else None,
    }
    logger.info("audit pruning: %s", summary)
    return summary
