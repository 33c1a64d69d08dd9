"""State changes of the connector layer. Docs: docs/integrations.md.

* ``receive``: store a record once per (connector, source id), enqueue its processing
  after commit.
* ``process``: apply one pending record with the connector's ``handle``, the record row
  locked, inside a savepoint; done, or retried later (``TransientError``, bounded,
  exponential backoff), or a dead letter (the limit, ``PermanentError``, anything else).
* ``replay``: a city IT admin sends a dead letter back to ``pending`` (audited).
* ``pull`` / ``pull_due``: fetch pages after the stored cursor, receive them and move the
  cursor in the same transaction.
* ``accept_webhook``: a verified webhook's events received in one transaction with its
  signature (so a replayed request is refused, and a refused one leaves nothing).

Every function is safe to run twice: records are unique, processing re-reads the state
under the row lock, pulls claim their turn with a compare-and-set.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from api.audit.recorder import record
from api.common.enqueue import enqueue_after_commit
from api.common.errors import Conflict, NotFound
from api.integrations import registry
from api.integrations.config import ConnectorConfig, load
from api.integrations.errors import PermanentError, TransientError
from api.integrations.http import client
from api.integrations.models import Connector, ReceivedRecord, RecordState, SeenSignature
from api.integrations.signatures import WINDOW_SECONDS

logger = logging.getLogger(__name__)

PROCESS_TASK = "api.integrations.tasks.process_record"
MAX_SOURCE_ID = 200
MAX_ERROR = 500
MAX_PAGES_PER_PULL = 20


def config_of(name: str) -> ConnectorConfig:
    spec = registry.get(name)
    return load(name, spec.pull_every_seconds)


def connector_row(name: str) -> Connector:
    row, _ = Connector.objects.get_or_create(name=name)
    return row


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: base × 2^(attempts-1), capped."""
    base = settings.GOVDESK_INTEGRATION_RETRY_BASE_SECONDS
    cap = settings.GOVDESK_INTEGRATION_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def _short(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
    return text[:MAX_ERROR]


# --- receive ---------------------------------------------------------------------------


def check_source_id(source_id: Any) -> str:
    if not isinstance(source_id, str) or not source_id.strip():
        raise PermanentError("a record needs a non-empty source id")
    if len(source_id) > MAX_SOURCE_ID or "\x00" in source_id:
        raise PermanentError(f"a source id is at most {MAX_SOURCE_ID} characters, no NUL")
    return source_id


def receive(
    connector: str, source_id: str, payload: dict, *, via: str
) -> tuple[ReceivedRecord, bool]:
    """Store the record unless (connector, source id) is already stored; enqueue its
    processing after commit. Returns (the stored record, whether it is new)."""
    registry.get(connector)  # an unknown connector is a programming error: KeyError
    source_id = check_source_id(source_id)
    if not isinstance(payload, dict):
        raise PermanentError("a record's payload is a JSON object")
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():  # savepoint: the unique constraint settles a race
                stored = ReceivedRecord.objects.create(
                    connector=connector,
                    source_id=source_id,
                    payload=payload,
                    via=via[:20],
                    received_at=now,
                    next_attempt_at=now,
                )
        except IntegrityError:
            return ReceivedRecord.objects.get(connector=connector, source_id=source_id), False
        enqueue_after_commit(PROCESS_TASK, stored.pk)
    return stored, True


# --- process ---------------------------------------------------------------------------


def _dead(stored: ReceivedRecord, error: str, now: datetime) -> None:
    stored.state = RecordState.DEAD
    stored.dead_at = now
    stored.next_attempt_at = None
    stored.last_error = error[:MAX_ERROR]
    record(
        "integrations.record_dead",
        object_type="integrations.record",
        object_id=stored.pk,
        detail={
            "connector": stored.connector,
            "source_id": stored.source_id,
            "attempts": stored.attempts,
            "error": stored.last_error,
        },
    )


def process(record_id: int, *, force: bool = False) -> str:
    """Apply one record; returns what happened: ``done``, ``retry``, ``dead``, or
    ``skipped`` (gone, not pending, or — unless ``force`` — its retry time not come)."""
    now = timezone.now()
    with transaction.atomic():
        stored = ReceivedRecord.objects.select_for_update().filter(pk=record_id).first()
        if stored is None or stored.state != RecordState.PENDING:
            return "skipped"
        if not force and stored.next_attempt_at is not None and stored.next_attempt_at > now:
            return "skipped"
        stored.attempts += 1
        try:
            spec = registry.get(stored.connector)
        except KeyError:
            _dead(stored, f"no connector named {stored.connector!r} is installed", now)
            stored.save()
            return "dead"
        outcome = "done"
        try:
            with transaction.atomic():  # a failing handler's writes are undone, ours kept
                spec.handle(stored.source_id, stored.payload)
        except TransientError as exc:
            stored.last_error = _short(exc)
            if stored.attempts >= settings.GOVDESK_INTEGRATION_MAX_ATTEMPTS:
                _dead(stored, f"gave up after {stored.attempts} attempts: {_short(exc)}", now)
                outcome = "dead"
            else:
                stored.next_attempt_at = now + retry_delay(stored.attempts)
                outcome = "retry"
            Connector.objects.filter(name=stored.connector).update(
                error_count=F("error_count") + 1, last_error=stored.last_error
            )
        except Exception as exc:  # PermanentError, or a bug: retrying will not fix it
            logger.warning(
                "integration %s record %s failed permanently: %s",
                stored.connector,
                stored.source_id,
                exc.__class__.__name__,
                exc_info=not isinstance(exc, PermanentError),
            )
            _dead(stored, _short(exc), now)
            outcome = "dead"
        else:
            stored.state = RecordState.DONE
            stored.done_at = now
            stored.next_attempt_at = None
            # Only a connector that had errors is written: no hot row for every record.
            Connector.objects.filter(name=stored.connector, error_count__gt=0).update(error_count=0)
        stored.save()
    return outcome


def due_record_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending records whose (retry) time has come, oldest first: the sweep's work, and
    what a lost task message left behind."""
    return list(
        ReceivedRecord.objects.filter(
            state=RecordState.PENDING, next_attempt_at__lte=now or timezone.now()
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


# --- dead letters ----------------------------------------------------------------------


def replay(record_id: int, actor: Any) -> ReceivedRecord:
    """Send a dead letter back to processing, with a fresh set of attempts; audited with
    the actor. A record that is not dead is a 409 (someone replayed it already)."""
    with transaction.atomic():
        stored = ReceivedRecord.objects.select_for_update().filter(pk=record_id).first()
        if stored is None:
            raise NotFound()
        if stored.state != RecordState.DEAD:
            raise Conflict()
        attempts_before = stored.attempts
        stored.state = RecordState.PENDING
        stored.attempts = 0
        stored.replays += 1
        stored.dead_at = None
        stored.next_attempt_at = timezone.now()
        stored.save()
        record(
            "integrations.dead_letter_replayed",
            actor=actor,
            object_type="integrations.record",
            object_id=stored.pk,
            detail={
                "connector": stored.connector,
                "source_id": stored.source_id,
                "attempts_before": attempts_before,
                "last_error": stored.last_error,
            },
        )
        enqueue_after_commit(PROCESS_TASK, stored.pk)
    return stored


# --- pulls -----------------------------------------------------------------------------


def _pull_failed(name: str, exc: BaseException, interval: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        row = Connector.objects.select_for_update().get(name=name)
        row.error_count += 1
        row.last_error = _short(exc)
        # Back off, but never wait longer than the normal interval.
        delay = min(retry_delay(row.error_count), timedelta(seconds=interval))
        row.next_pull_at = now + delay
        row.save(update_fields=["error_count", "last_error", "next_pull_at"])


def pull(name: str) -> int:
    """Pull ``name`` now, page after page from its cursor; returns how many new records
    were stored. A failure is counted on the connector (health) and retried at the next
    turn; the cursor moves only with the records of its page, so nothing is lost."""
    spec = registry.get(name)
    config = load(name, spec.pull_every_seconds)
    if spec.pull is None or not registry.configured(spec, config):
        return 0
    connector_row(name)
    Connector.objects.filter(name=name).update(last_attempt_at=timezone.now())
    new = 0
    with client(config) as http:
        for _ in range(MAX_PAGES_PER_PULL):
            cursor = Connector.objects.values_list("cursor", flat=True).get(name=name)
            try:
                page = spec.pull(registry.PullContext(cursor=cursor, config=config, http=http))
            except Exception as exc:
                logger.warning("integration %s pull failed: %s", name, _short(exc))
                _pull_failed(name, exc, config.pull_seconds)
                return new
            with transaction.atomic():
                row = Connector.objects.select_for_update().get(name=name)
                if row.cursor != cursor:  # another pull moved on meanwhile: it stored these
                    return new
                for source_id, payload in page.records:
                    try:
                        new += receive(name, source_id, payload, via="pull")[1]
                    except PermanentError as exc:  # one bad record never blocks the feed
                        logger.warning("integration %s: record refused: %s", name, exc)
                now = timezone.now()
                row.cursor = page.cursor[:500]
                row.last_success_at = now
                row.error_count = 0
                row.last_error = ""
                row.next_pull_at = now + timedelta(seconds=config.pull_seconds)
                row.save()
            if not page.more:
                break
    return new


def pull_due(now: datetime | None = None) -> int:
    """Pull every configured connector whose turn has come. Each turn is claimed with a
    compare-and-set on ``next_pull_at`` first, so two beats (or a task run twice) pull
    once."""
    now = now or timezone.now()
    new = 0
    for spec in registry.all_specs():
        if spec.pull is None:
            continue
        config = load(spec.name, spec.pull_every_seconds)
        if not registry.configured(spec, config):
            continue
        row = connector_row(spec.name)
        if row.next_pull_at is not None and row.next_pull_at > now:
            continue
        claim = Connector.objects.filter(pk=row.pk, next_pull_at=row.next_pull_at)
        if row.next_pull_at is None:
            claim = Connector.objects.filter(pk=row.pk, next_pull_at__isnull=True)
        if claim.update(next_pull_at=now + timedelta(seconds=config.pull_seconds)) != 1:
            continue
        new += pull(spec.name)
    return new


# --- webhooks --------------------------------------------------------------------------


class Replayed(Exception):
    """The webhook's signature was accepted before."""


def accept_webhook(
    name: str, signature: str, events: list[tuple[str, dict]], *, source_address: str | None
) -> tuple[int, int]:
    """Store a verified webhook's events with its signature, in one transaction; returns
    (events, new records). ``Replayed`` when the signature was seen already."""
    now = timezone.now()
    connector_row(name)
    new = 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                SeenSignature.objects.create(connector=name, signature=signature, seen_at=now)
        except IntegrityError:
            raise Replayed() from None
        for source_id, payload in events:
            new += receive(name, source_id, payload, via="webhook")[1]
        Connector.objects.filter(name=name).update(last_success_at=now, last_attempt_at=now)
        record(
            "integrations.webhook_received",
            object_type="integrations.connector",
            object_id=name,
            source_address=source_address,
            detail={"connector": name, "events": len(events), "new": new},
        )
    return len(events), new


def prune_signatures(now: datetime | None = None) -> int:
    """Forget signatures older than twice the window: their timestamps are refused as
    old anyway."""
    cutoff = (now or timezone.now()) - timedelta(seconds=2 * WINDOW_SECONDS)
    return SeenSignature.objects.filter(seen_at__lt=cutoff).delete()[0]
