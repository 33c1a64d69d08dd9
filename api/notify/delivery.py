"""The delivery worker: claim outbox rows with a lease, send, record the outcome.

Docs: docs/notifications.md#the-outbox-and-the-worker.

* **Claim.** ``claim`` takes due rows (pending and due, or "sending" whose lease ran
  out because a worker died) and marks them ``sending`` with a fresh claim token
  and ``lease_until``. On PostgreSQL the candidates are read ``FOR UPDATE SKIP
  LOCKED`` so concurrent workers do not queue behind each other; the claim itself is
  a conditional UPDATE that repeats the "claimable" condition, so it is exclusive on
  SQLite (which has no row locks) as well: two workers never both hold a row.
* **Send.** Rows are grouped by channel and sent in slices (``SEND_SLICE``: one FCM
  ``send_each`` call, or a few rows of a channel that sends one request per row),
  with the row id as the provider idempotency key (Aliyun ``OutId``, Tencent
  ``SessionContext``, FCM ``data.idempotency_key``). Before each slice the worker
  re-asserts its claim and renews the lease in one conditional UPDATE; a row another
  worker took over meanwhile (this batch outlived its lease on a slow provider) is
  left to that worker instead of being sent twice.
* **Finish.** Only the holder of the claim token may finish a row. ``ok`` → sent;
  transient → pending again after a bounded, jittered backoff (failed after
  ``GOVDESK_NOTIFY_MAX_ATTEMPTS`` claims); permanent → failed, and the address is
  disabled (dead token → device off; invalid number → that number is not used
  again) or, for a configuration error, the channel is marked broken. Web Push
  endpoints are the users' own URLs: any permanent error there disables only that
  device (``Resolved.per_address_failures``), so no user can break the channel.
  A Web Push row whose endpoint's host GOVDESK_NOTIFY_WEBPUSH_HOSTS no longer allows
  is skipped (``endpoint_not_allowed``) before anything is sent.

At least once: a worker that dies after the provider accepted a message but before
the row is marked sent leaves the row "sending"; after the lease it is sent again
with the same idempotency key. That window (at most one slice) is the only source of
a duplicate.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from api.notify import registry
from api.notify.models import (
    Channel,
    ChannelHealth,
    Delivery,
    DeliveryState,
    Device,
    Kind,
    NotificationPreference,
)
from notifications.channels.base import Message, Result, Urgency

logger = logging.getLogger(__name__)

CLAIM_BATCH = 200
# Rows sent between two renewals of the claim. Channels that send one request per row
# (SMS, IM, Web Push; up to a 10 s timeout each) get a slice that fits well inside
# the lease; FCM's send_each sends its whole call concurrently.
SEND_SLICE: dict[str, int] = {Channel.FCM: 500}
DEFAULT_SEND_SLICE = 10


def claimable(now: datetime) -> Q:
    return Q(state=DeliveryState.PENDING, next_attempt_at__lte=now) | Q(
        state=DeliveryState.SENDING, lease_until__lt=now
    )


def claim(ids: Iterable[int] | None, now: datetime, limit: int = CLAIM_BATCH) -> list[Delivery]:
    """Claim up to ``limit`` due rows (only among ``ids`` when given) for this worker."""
    token = uuid.uuid4().hex
    lease = now + timedelta(seconds=settings.GOVDESK_NOTIFY_LEASE_SECONDS)
    with transaction.atomic():
        rows = Delivery.objects.filter(claimable(now))
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        candidates = list(
            rows.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        Delivery.objects.filter(claimable(now), pk__in=candidates).update(
            state=DeliveryState.SENDING,
            lease_until=lease,
            claim_token=token,
            attempts=F("attempts") + 1,
        )
    return list(
        Delivery.objects.filter(claim_token=token, state=DeliveryState.SENDING)
        .select_related("notification", "notification__recipient", "device")
        .order_by("id")
    )


def due_ids(now: datetime, limit: int = 5000) -> list[int]:
    """Rows the sweep should hand to workers: due, or their lease ran out."""
    return list(
        Delivery.objects.filter(claimable(now)).order_by("id").values_list("pk", flat=True)[:limit]
    )


def backoff_seconds(attempts: int, retry_after: float | None, rand=random.random) -> float:
    """Full-jitter exponential backoff 30 s · 2^(n-1), capped, raised to a provider hint."""
    cap = float(settings.GOVDESK_NOTIFY_RETRY_MAX_SECONDS)
    ceiling = min(cap, 30.0 * (2 ** max(0, attempts - 1)))
    delay = max(1.0, rand() * ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


# --- building messages ----------------------------------------------------------------------


def _sms_data(delivery: Delivery) -> dict[str, str]:
    n = delivery.notification
    values = {
        "title": n.title[:35],  # Aliyun/Tencent template variables are short
        "kind": Kind(n.kind).label if n.kind in Kind.values else n.kind,
        "urgency": n.get_urgency_display(),
        "name": n.recipient.display_name[:20],
    }
    return {name: values.get(name, "") for name in settings.GOVDESK_NOTIFY_SMS_TEMPLATE_PARAMS}


def message_for(delivery: Delivery) -> Message:
    n = delivery.notification
    if delivery.channel in (Channel.FCM, Channel.WEBPUSH):
        assert delivery.device is not None
        recipient = delivery.device.address
        data = {
            "notification_id": str(n.pk),
            "kind": n.kind,
            "task_id": str(n.task_id or ""),
            "document_id": str(n.document_id or ""),
        }
    elif delivery.channel == Channel.SMS:
        recipient, data = delivery.address, _sms_data(delivery)
    elif delivery.channel == Channel.XMPP:
        recipient, data = delivery.address, {}  # the person's JID
    else:
        recipient = settings.GOVDESK_NOTIFY_IM_WEBHOOK_URL
        data = {}
    return Message(
        recipient=recipient,
        title=n.title,
        body=n.body or n.get_kind_display(),
        idempotency_key=delivery.idempotency_key,
        data=data,
        urgency=Urgency(n.urgency),
    )


# --- finishing ------------------------------------------------------------------------------


def _finish(delivery: Delivery, **fields) -> bool:
    """Write the outcome only if this worker still holds the claim."""
    fields.setdefault("lease_until", None)
    return bool(
        Delivery.objects.filter(
            pk=delivery.pk, claim_token=delivery.claim_token, state=DeliveryState.SENDING
        ).update(**fields)
    )


def _still_mine(rows: list[Delivery], now: datetime) -> list[Delivery]:
    """Re-assert the claim on ``rows`` and renew their lease, in one conditional UPDATE
    (a fresh claim token). Returns the rows this worker still holds: a row whose lease
    ran out and that another worker claimed is theirs to send now."""
    token = uuid.uuid4().hex
    ids = [d.pk for d in rows]
    Delivery.objects.filter(
        pk__in=ids,
        claim_token__in={d.claim_token for d in rows},  # another worker's token differs
        state=DeliveryState.SENDING,
    ).update(
        claim_token=token,
        lease_until=now + timedelta(seconds=settings.GOVDESK_NOTIFY_LEASE_SECONDS),
    )
    held = set(Delivery.objects.filter(pk__in=ids, claim_token=token).values_list("pk", flat=True))
    kept = []
    for delivery in rows:
        if delivery.pk in held:
            delivery.claim_token = token
            kept.append(delivery)
    return kept


def _skip(delivery: Delivery, reason: str) -> None:
    _finish(delivery, state=DeliveryState.SKIPPED, error_code=reason[:100])


def _retry_or_fail(delivery: Delivery, now: datetime, code: str, detail: str, hint=None) -> None:
    if delivery.attempts >= settings.GOVDESK_NOTIFY_MAX_ATTEMPTS:
        _finish(
            delivery, state=DeliveryState.FAILED, error_code=code[:100], error_detail=detail[:300]
        )
        return
    wait = backoff_seconds(delivery.attempts, hint)
    _finish(
        delivery,
        state=DeliveryState.PENDING,
        next_attempt_at=now + timedelta(seconds=wait),
        error_code=code[:100],
        error_detail=detail[:300],
    )


def _disable_address(delivery: Delivery, code: str) -> None:
    if delivery.device_id is not None:
        Device.objects.filter(pk=delivery.device_id).update(
            enabled=False, disabled_reason=f"provider: {code}"[:200]
        )
    elif delivery.channel == Channel.SMS:
        preference, _ = NotificationPreference.objects.get_or_create(
            user_id=delivery.notification.recipient_id
        )
        preference.bad_mobile = delivery.address[:20]
        preference.save(update_fields=["bad_mobile"])


def mark_broken(channel: str, fingerprint: str, now: datetime, code: str, detail: str) -> None:
    logger.error("notification channel %s marked broken: %s %s", channel, code, detail)
    ChannelHealth.objects.update_or_create(
        channel=channel,
        defaults={
            "broken_at": now,
            "config_fingerprint": fingerprint,
            "error_code": code[:100],
            "error_detail": detail[:300],
        },
    )


def is_broken(channel: str, fingerprint: str) -> bool:
    return ChannelHealth.objects.filter(
        channel=channel, broken_at__isnull=False, config_fingerprint=fingerprint
    ).exists()


def record_result(
    delivery: Delivery, result: Result, resolved: registry.Resolved, now: datetime
) -> None:
    code = result.error_code or ""
    detail = result.error_detail or ""
    if result.ok:
        finished = _finish(
            delivery,
            state=DeliveryState.SENT,
            sent_at=now,
            provider_message_id=(result.provider_message_id or "")[:200],
            error_code="",
            error_detail="",
        )
        if finished and result.provider_part_ids:
            # SMPP: one message id per part; their receipts settle receipt_state.
            from api.notify.receipts import record_parts

            record_parts(delivery.pk, result.provider_part_ids, now)
    elif result.transient:
        _retry_or_fail(delivery, now, code or "transient_error", detail, result.retry_after)
    else:
        _finish(
            delivery, state=DeliveryState.FAILED, error_code=code[:100], error_detail=detail[:300]
        )
        if code in resolved.dead_codes or resolved.per_address_failures:
            _disable_address(delivery, code)
        else:
            mark_broken(delivery.channel, resolved.fingerprint, now, code, detail)


# --- the worker's entry point ---------------------------------------------------------------


def _precheck(delivery: Delivery) -> str:
    """Why this row must not be sent now ("" = send it)."""
    n = delivery.notification
    if n.read_at is not None and delivery.channel in (Channel.SMS, Channel.IM, Channel.XMPP):
        return "read_before_send"  # reading stops the ladder
    if delivery.channel in (Channel.FCM, Channel.WEBPUSH):
        device = delivery.device
        if device is None:
            return "device_removed"
        if not device.enabled:
            return "device_disabled"
        if not device.push_enabled or device.user_id != n.recipient_id:
            return "device_push_off"
        if delivery.channel == Channel.WEBPUSH and not _endpoint_allowed(device):
            # Registered before GOVDESK_NOTIFY_WEBPUSH_HOSTS was narrowed: not sent, but
            # the device stays on (listing the host again makes it work again).
            return "endpoint_not_allowed"
    return ""


def _endpoint_allowed(device: Device) -> bool:
    subscription = device.subscription if isinstance(device.subscription, dict) else {}
    endpoint = subscription.get("endpoint")
    return isinstance(endpoint, str) and registry.webpush_endpoint_allowed(endpoint)


def _quiet_until(delivery: Delivery, now: datetime) -> datetime | None:
    """For an SMS that must not go out now (quiet hours): when it may."""
    from api.notify.ladder import quiet_hours_end, sms_may_go_at_night

    if delivery.channel not in (Channel.SMS, Channel.XMPP):
        return None
    until = quiet_hours_end(now)
    if until is None or sms_may_go_at_night(delivery.notification):
        return None
    return until


def _hold(delivery: Delivery, until: datetime) -> None:
    # Not an attempt: give back the one the claim counted.
    _finish(
        delivery,
        state=DeliveryState.PENDING,
        next_attempt_at=until,
        attempts=F("attempts") - 1,
        error_code="held_by_quiet_hours",
    )


def deliver(ids: Iterable[int] | None, now: datetime | None = None) -> dict[str, int]:
    """Claim and send ``ids`` (or any due rows); return counts by final outcome."""
    now = now or timezone.now()
    started = time.monotonic()
    claimed = claim(ids, now)
    counts: dict[str, int] = defaultdict(int)
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        reason = _precheck(delivery)
        until = None if reason else _quiet_until(delivery, now)
        if reason:
            _skip(delivery, reason)
            counts["skipped"] += 1
        elif until is not None:
            # Queued just before quiet hours, or retried into them: wait for the morning.
            _hold(delivery, until)
            counts["held"] += 1
        else:
            by_channel[delivery.channel].append(delivery)
    for channel, rows in by_channel.items():
        resolved = registry.resolve(channel)
        if resolved.channel is None:
            for delivery in rows:
                _skip(delivery, resolved.reason)
            counts["skipped"] += len(rows)
            continue
        if is_broken(channel, resolved.fingerprint):
            # Held, not dropped: fixing the configuration changes the fingerprint and
            # the next attempt goes out; after MAX_ATTEMPTS the row fails.
            for delivery in rows:
                _retry_or_fail(delivery, now, "channel_broken", "", None)
            counts["held"] += len(rows)
            continue
        size = SEND_SLICE.get(channel, DEFAULT_SEND_SLICE)
        for start in range(0, len(rows), size):
            # The caller's clock (tests drive it) plus the time this run has taken.
            renewed_at = now + timedelta(seconds=time.monotonic() - started)
            chunk = rows[start : start + size]
            part = _still_mine(chunk, renewed_at)
            counts["taken_over"] += len(chunk) - len(part)
            if part:
                _send(resolved, part, now, counts)
    return {outcome: n for outcome, n in counts.items() if n}


def _send(
    resolved: registry.Resolved, rows: list[Delivery], now: datetime, counts: dict[str, int]
) -> None:
    assert resolved.channel is not None
    messages = [message_for(d) for d in rows]
    try:
        results = resolved.channel.send(messages)
    except Exception as exc:  # a channel bug must not lose the rows: retry them
        logger.exception("channel %s raised", resolved.name)
        for delivery in rows:
            _retry_or_fail(delivery, now, "channel_exception", type(exc).__name__)
        counts["transient_error"] += len(rows)
        return
    for delivery, result in zip(rows, results, strict=True):
        # The caller's clock (tests drive it), so retries are scheduled from "now".
        record_result(delivery, result, resolved, now)
        counts[result.outcome.value] += 1
