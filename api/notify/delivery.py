"""The delivery worker: claim outbox rows with a lease, send, record the outcome.

Docs: docs/notifications.md#the-outbox-and-the-worker.

* **Claim.** ``claim`` takes due rows (pending and due, or "sending" whose lease ran
  out because a worker died) and marks them ``sending`` with a fresh claim token
  and ``lease_until``. On PostgreSQL the candidates are read ``FOR UPDATE SKIP
  LOCKED`` so concurrent workers do not queue behind each other; the claim itself is
  a conditional UPDATE that repeats the "claimable" condition, so it is exclusive on
  SQLite (which has no row locks) as well: two workers never both hold a row.
* **Send.** Rows are grouped by channel and sent in one call per channel, with the
  row id as the provider idempotency key (Aliyun ``OutId``, Tencent
  ``SessionContext``, FCM ``data.idempotency_key``).
* **Finish.** Only the holder of the claim token may finish a row. ``ok`` → sent;
  transient → pending again after a bounded, jittered backoff (failed after
  ``GOVDESK_NOTIFY_MAX_ATTEMPTS`` claims); permanent → failed, and the address is
  disabled (dead token → device off; invalid number → that number is not used
  again) or, for a configuration error, the channel is marked broken.

At least once: a worker that dies after the provider accepted a message but before
the row is marked sent leaves the row "sending"; after the lease it is sent again
with the same idempotency key. That window is the only source of a duplicate.
"""

from __future__ import annotations

import logging
import random
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
        _finish(
            delivery,
            state=DeliveryState.SENT,
            sent_at=now,
            provider_message_id=(result.provider_message_id or "")[:200],
            error_code="",
            error_detail="",
        )
    elif result.transient:
        _retry_or_fail(delivery, now, code or "transient_error", detail, result.retry_after)
    else:
        _finish(
            delivery, state=DeliveryState.FAILED, error_code=code[:100], error_detail=detail[:300]
        )
        if code in resolved.dead_codes:
            _disable_address(delivery, code)
        else:
            mark_broken(delivery.channel, resolved.fingerprint, now, code, detail)


# --- the worker's entry point ---------------------------------------------------------------


def _precheck(delivery: Delivery) -> str:
    """Why this row must not be sent now ("" = send it)."""
    n = delivery.notification
    if n.read_at is not None and delivery.channel in (Channel.SMS, Channel.IM):
        return "read_before_send"  # reading stops the ladder
    if delivery.channel in (Channel.FCM, Channel.WEBPUSH):
        device = delivery.device
        if device is None:
            return "device_removed"
        if not device.enabled:
            return "device_disabled"
        if not device.push_enabled or device.user_id != n.recipient_id:
            return "device_push_off"
    return ""


def deliver(ids: Iterable[int] | None, now: datetime | None = None) -> dict[str, int]:
    """Claim and send ``ids`` (or any due rows); return counts by final outcome."""
    now = now or timezone.now()
    claimed = claim(ids, now)
    counts: dict[str, int] = defaultdict(int)
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        reason = _precheck(delivery)
        if reason:
            _skip(delivery, reason)
            counts["skipped"] += 1
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
        messages = [message_for(d) for d in rows]
        try:
            results = resolved.channel.send(messages)
        except Exception as exc:  # a channel bug must not lose the rows: retry them
            logger.exception("channel %s raised", channel)
            for delivery in rows:
                _retry_or_fail(delivery, now, "channel_exception", type(exc).__name__)
            counts["transient_error"] += len(rows)
            continue
        for delivery, result in zip(rows, results, strict=True):
            # The caller's clock (tests drive it), so retries are scheduled from "now".
            record_result(delivery, result, resolved, now)
            counts[result.outcome.value] += 1
    return dict(counts)
