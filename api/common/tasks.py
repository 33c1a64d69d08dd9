"""Celery tasks of the common app: the worker heartbeat.

Docs: docs/operations.md#background-work and docs/operations.md#health.

Beat sends ``api.common.tasks.heartbeat`` every minute (``settings.CELERY_BEAT_SCHEDULE``);
the worker that runs it writes the time into the default cache, which every process
shares (the ``govdesk_cache`` database table in the demo, Redis when ``REDIS_URL`` is
set). ``GET /api/v1/health/`` reads it back to report whether a worker is alive, so a
heartbeat proves the whole chain beat → broker → worker → shared store works.
The task is safe to run twice: it only overwrites the last-seen time.

Beat's first run of an interval entry comes one interval after start, so beat also
sends one heartbeat as it starts (``beat_init``): a fresh deployment reports its
worker within seconds instead of a minute.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from celery.signals import beat_init
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_TASK = "api.common.tasks.heartbeat"
HEARTBEAT_CACHE_KEY = "govdesk:worker:heartbeat"
# The record outlives staleness by far, so health can still say when a worker was last seen.
HEARTBEAT_KEEP_SECONDS = 7 * 24 * 3600


def heartbeat_interval_seconds() -> float:
    """The beat interval of the heartbeat entry (60 s unless the schedule says otherwise)."""
    entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get("heartbeat", {})
    schedule = entry.get("schedule", 60.0)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    return 60.0  # a crontab schedule: assume once a minute


def stale_after_seconds() -> float:
    """A worker is considered gone after three missed heartbeats."""
    return 3 * heartbeat_interval_seconds()


def record_heartbeat(hostname: str | None = None, now: datetime | None = None) -> dict:
    payload = {
        "last_seen": (now or timezone.now()).isoformat(),
        "hostname": (hostname or "")[:200],
    }
    cache.set(HEARTBEAT_CACHE_KEY, payload, timeout=HEARTBEAT_KEEP_SECONDS)
    return payload


def last_heartbeat() -> dict | None:
    value = cache.get(HEARTBEAT_CACHE_KEY)
    return value if isinstance(value, dict) else None


@shared_task(bind=True, name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat(self) -> dict:
    """Records that a worker is alive and consuming the broker."""
    return record_heartbeat(hostname=self.request.hostname)


@beat_init.connect
def send_heartbeat_on_beat_start(sender=None, **kwargs) -> None:
    """Beat's first heartbeat, sent at start rather than one interval later."""
    app = getattr(sender, "app", None)
    if app is None:
        return
    try:
        app.send_task(HEARTBEAT_TASK)
    except Exception:  # the broker may still be starting; the schedule retries in a minute
        logger.warning("could not send the start-up heartbeat", exc_info=True)


PRUNE_IDEMPOTENCY_TASK = "api.common.tasks.prune_idempotency_records"


@shared_task(name=PRUNE_IDEMPOTENCY_TASK, ignore_result=True)
def prune_idempotency_records() -> int:
    """Deletes Idempotency-Key records older than their lifetime (docs/api.md#idempotency).

    Safe to run twice: an expired record is treated as absent by the decorator anyway."""
    from api.common.models import IdempotencyRecord

    cutoff = timezone.now() - timedelta(seconds=settings.GOVDESK_IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
