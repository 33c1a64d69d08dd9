"""State changes of api.notify: notify, read marks, devices, preferences.

Docs: docs/notifications.md. ``notify`` is the one public entry point for every
other app (workflow, urging, exchange, supervision): call it INSIDE the transaction
of the action that causes it. It writes the in-app Notification and its push
outbox rows in that transaction, so a rollback sends nothing; after commit it sends
``notification_created`` and enqueues the delivery worker. Device and preference
changes are audited (api/audit/recorder.record) in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from api.common.enqueue import enqueue_after_commit
from api.notify.models import (
    Channel,
    Delivery,
    Device,
    DeviceKind,
    Kind,
    Notification,
    NotificationPreference,
    Urgency,
)
from api.notify.signals import notification_created

if TYPE_CHECKING:
    from api.accounts.models import User
    from api.documents.models import Document
    from api.workflow.models import Task

ENQUEUE_CHUNK = 100  # delivery rows per deliver task

URGENCY_ORDER = {Urgency.LOW: 0, Urgency.NORMAL: 1, Urgency.HIGH: 2, Urgency.VERY_URGENT: 3}

# Document urgency (普通/加急/特急) → notification urgency.
DOCUMENT_URGENCY = {
    "normal": Urgency.NORMAL,
    "urgent": Urgency.HIGH,
    "very_urgent": Urgency.VERY_URGENT,
}


def urgency_of_document(document_urgency: str) -> str:
    return DOCUMENT_URGENCY.get(document_urgency, Urgency.NORMAL)


def preference_of(user: User) -> NotificationPreference:
    """The user's preferences; an unsaved default row when they never changed any."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def sms_due(urgency: str, created_at: datetime) -> datetime | None:
    minutes = settings.GOVDESK_NOTIFY_SMS_AFTER_MINUTES.get(urgency, 0)
    return created_at + timedelta(minutes=minutes) if minutes > 0 else None


def xmpp_due(urgency: str, created_at: datetime) -> datetime | None:
    """The per-person IM rung, when an XMPP service account is configured."""
    if not (settings.GOVDESK_NOTIFY_XMPP_JID and settings.GOVDESK_NOTIFY_XMPP_PASSWORD):
        return None
    minutes = settings.GOVDESK_NOTIFY_XMPP_AFTER_MINUTES.get(urgency, 0)
    return created_at + timedelta(minutes=minutes) if minutes > 0 else None


def escalate_due(
    urgency: str, created_at: datetime, task_due_at: datetime | None
) -> datetime | None:
    """When to tell the clerk and the A/B backup: ``ESCALATE_BEFORE`` minutes before
    the task's deadline, but never before the SMS rung had its chance (or 15
    minutes when SMS is off for this urgency), so a task opened close to its deadline
    does not page the clerk the moment it is created."""
    before = settings.GOVDESK_NOTIFY_ESCALATE_BEFORE_MINUTES
    if task_due_at is None or before <= 0:
        return None
    earliest = sms_due(urgency, created_at) or created_at + timedelta(minutes=15)
    return max(task_due_at - timedelta(minutes=before), earliest)


def pushable_devices() -> QuerySet[Device]:
    """Devices that may receive a push now: enabled, switched on, and their user has
    not switched push off (one query however many users)."""
    return Device.objects.filter(enabled=True, push_enabled=True).exclude(
        user__notification_preference__push_enabled=False
    )


def _push_devices_by_user(user_ids: set[int]) -> dict[int, list[Device]]:
    found: dict[int, list[Device]] = {}
    if user_ids:
        for device in pushable_devices().filter(user_id__in=user_ids).order_by("id"):
            found.setdefault(device.user_id, []).append(device)
    return found


def _wants(device: Device, urgency: str) -> bool:
    return URGENCY_ORDER.get(device.min_urgency, 0) <= URGENCY_ORDER.get(urgency, 1)  # type: ignore[call-overload]


def enqueue_deliveries(ids: list[int]) -> None:
    """Hand delivery rows to the worker after the current transaction commits, in
    chunks of ``ENQUEUE_CHUNK``. If the broker is down the rows stay pending and the
    beat sweep sends them (api/common/enqueue.py logs the failure)."""
    for chunk in delivery_chunks(ids):
        enqueue_after_commit("api.notify.tasks.deliver", chunk)


def delivery_chunks(ids: list[int]) -> list[list[int]]:
    """``ids`` in chunks of at most ``ENQUEUE_CHUNK`` (one ``deliver`` task each)."""
    return [ids[start : start + ENQUEUE_CHUNK] for start in range(0, len(ids), ENQUEUE_CHUNK)]


def notify(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    task: Task | None = None,
    document: Document | None = None,
    urgency: str = "normal",
    dedup_key: str,
    now: datetime | None = None,
    sms: bool = True,
) -> Notification | None:
    """Write one notification for ``recipient`` and queue its push deliveries.

    Returns None (and writes nothing) when ``(recipient, dedup_key)`` already exists.
    ``sms=False``: this one never climbs to SMS (an urge past the one SMS its person
    and item get per window, api/notify/urge_caps.py); in-app, push and IM still go.
    Must run inside the causing action's transaction (it opens one if there is none)."""
    item = Pending(recipient, kind, title, body, task, document, urgency, dedup_key, sms)
    created = notify_many([item], now=now)
    return created[0] if created else None


@dataclass
class Pending:
    """One notification to write with ``notify_many``."""

    recipient: User
    kind: str
    title: str
    body: str = ""
    task: Task | None = None
    document: Document | None = None
    urgency: str = "normal"
    dedup_key: str = ""
    sms: bool = True  # False: the SMS rung never fires (urge caps)


def notify_many(
    items: list[Pending],
    now: datetime | None = None,
    *,
    checked: bool = False,
    push_user_ids: set[int] | None = None,
) -> list[Notification]:
    """``notify`` for several notifications in a constant number of queries (the
    workflow opens a whole countersign round at once). Returns the ones written;
    de-duplicated items are left out.

    For the approve path's query budget a caller may say more than it must:
    ``checked`` — it already left out keys that exist and holds the row locks that
    make a concurrent notify of the same keys impossible (no look-up, no savepoint);
    ``push_user_ids`` — only these recipients have a pushable device (no device
    query when it is empty)."""
    now = now or timezone.now()
    for item in items:
        if item.kind not in Kind.values:
            raise ValueError(f"unknown notification kind {item.kind!r}")
        if item.urgency not in Urgency.values:
            raise ValueError(f"unknown urgency {item.urgency!r}")
        if not item.dedup_key:
            raise ValueError("dedup_key is required")
    # savepoint=False: inside the caller's transaction this adds no query, and a
    # failure here must roll the caller's action back anyway.
    with transaction.atomic(savepoint=False):
        keys = {(i.recipient.pk, i.dedup_key[:200]) for i in items}
        existing: set[tuple[int, str]] = set()
        if not checked:
            existing = set(
                Notification.objects.filter(
                    recipient_id__in={k[0] for k in keys}, dedup_key__in={k[1] for k in keys}
                ).values_list("recipient_id", "dedup_key")
            )
        fresh: list[Notification] = []
        for item in items:
            key = (item.recipient.pk, item.dedup_key[:200])
            if key in existing:
                continue
            existing.add(key)
            fresh.append(_build(item, now))
        if not fresh:
            return []
        if checked:
            Notification.objects.bulk_create(fresh)
        else:
            try:
                # A savepoint: a concurrent notify of the same event loses the race
                # here without breaking the caller's transaction; then one by one.
                with transaction.atomic():
                    Notification.objects.bulk_create(fresh)
            except IntegrityError:
                fresh = [n for n in (_save_one(n) for n in fresh) if n is not None]
        if any(n.pk is None for n in fresh):  # a backend that returns no ids
            fresh = list(
                Notification.objects.filter(
                    created_at=now,
                    recipient_id__in={n.recipient_id for n in fresh},
                    dedup_key__in={n.dedup_key for n in fresh},
                )
            )
        recipients = {n.recipient_id for n in fresh}
        if push_user_ids is not None:
            recipients &= push_user_ids
        devices = _push_devices_by_user(recipients)
        deliveries = [
            Delivery(
                notification=n,
                channel=Channel.FCM if device.kind == DeviceKind.FCM else Channel.WEBPUSH,
                device=device,
                next_attempt_at=now,
                created_at=now,
            )
            for n in fresh
            for device in devices.get(n.recipient_id, [])
            if _wants(device, n.urgency)
        ]
        created = Delivery.objects.bulk_create(deliveries)
        enqueue_deliveries([d.pk for d in created if d.pk is not None])
        announced = [(n.pk, n.recipient_id) for n in fresh]
        transaction.on_commit(lambda: _announce(announced))
    return fresh


SMS_CAPPED_NOTE = "sms_urge_capped"  # the urge cap: one SMS per person and item per window


def _build(item: Pending, now: datetime) -> Notification:
    task = item.task
    return Notification(
        recipient=item.recipient,
        kind=item.kind,
        title=item.title[:200],
        body=item.body,
        task=task,
        document=item.document if item.document is not None else getattr(task, "document", None),
        urgency=item.urgency,
        dedup_key=item.dedup_key[:200],
        created_at=now,
        sms_due_at=sms_due(item.urgency, now) if item.sms else None,
        ladder_note="" if item.sms else SMS_CAPPED_NOTE,
        xmpp_due_at=xmpp_due(item.urgency, now),
        escalate_due_at=(
            escalate_due(item.urgency, now, task.due_at)
            if task is not None and item.kind == Kind.TASK_OPENED
            else None
        ),
    )


def _save_one(notification: Notification) -> Notification | None:
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        return None
    return notification


def _announce(announced: list[tuple[int, int]]) -> None:
    import logging

    for notification_id, recipient_id in announced:
        # send_robust: a failing receiver (the live channel) must not turn a committed
        # action into an error for its caller.
        for receiver, error in notification_created.send_robust(
            sender=Notification, notification_id=notification_id, recipient_id=recipient_id
        ):
            if isinstance(error, Exception):
                logging.getLogger(__name__).error(
                    "notification_created receiver %r failed", receiver, exc_info=error
                )


def queue_delivery(
    notification: Notification, channel: str, address: str, now: datetime
) -> Delivery | None:
    """An outbox row for a non-device channel (SMS, IM); None if it already exists."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                notification=notification,
                channel=channel,
                address=address,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        return None
    enqueue_deliveries([delivery.pk])
    return delivery


# --- reading -------------------------------------------------------------------------------


def mark_read(notification: Notification, now: datetime | None = None) -> Notification:
    """Mark one of the caller's notifications read; stops its ladder. Idempotent."""
    if notification.read_at is None:
        now = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def mark_all_read(user: User, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


def mark_task_read(user: User, task_id: int, now: datetime | None = None) -> int:
    """Opening a task marks the notifications about it read (stops their ladder)."""
    now = now or timezone.now()
    return Notification.objects.filter(
        recipient=user, task_id=task_id, read_at__isnull=True
    ).update(read_at=now)


# --- devices -------------------------------------------------------------------------------


def address_key(kind: str, token: str = "", subscription: dict[str, Any] | None = None) -> str:
    raw = token if kind == DeviceKind.FCM else str((subscription or {}).get("endpoint", ""))
    return hashlib.sha256(raw.encode()).hexdigest()


def register_device(
    user: User,
    *,
    kind: str,
    token: str = "",
    subscription: dict[str, Any] | None = None,
    label: str = "",
    push_enabled: bool = True,
    min_urgency: str = Urgency.LOW,
) -> tuple[Device, bool]:
    """Register (or refresh) a push address for ``user``. Returns (device, created).

    The same address registered by another user moves to ``user``: a push token
    belongs to one app install, and it must not keep receiving the previous
    user's notifications after they signed out there."""
    from api.audit.recorder import record

    now = timezone.now()
    key = address_key(kind, token, subscription)
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(kind=kind, address_key=key).first()
        created = device is None
        previous_user_id = None if device is None else device.user_id
        if device is None:
            device = Device(kind=kind, address_key=key, created_at=now)
        device.user = user
        device.token = token if kind == DeviceKind.FCM else ""
        device.subscription = subscription if kind == DeviceKind.WEBPUSH else None
        device.label = label or device.label
        device.enabled = True
        device.disabled_reason = ""
        device.push_enabled = push_enabled
        device.min_urgency = min_urgency
        device.last_seen_at = now
        device.save()
        detail: dict[str, Any] = {"kind": kind, "label": device.label, "created": created}
        if previous_user_id is not None and previous_user_id != user.pk:
            detail["moved_from_user_id"] = previous_user_id
        record("notify.device_registered", actor=user, obj=device, detail=detail)
    return device, created


def update_device(user: User, device: Device, changes: dict[str, Any]) -> Device:
    from api.audit.recorder import record

    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk, user=user)
        for field in ("label", "push_enabled", "min_urgency"):
            if field in changes:
                setattr(device, field, changes[field])
        if changes.get("enabled") is True and not device.enabled:
            # The user re-enables a device the worker disabled (e.g. after reinstalling).
            device.enabled = True
            device.disabled_reason = ""
        elif changes.get("enabled") is False:
            device.enabled = False
            device.disabled_reason = "disabled_by_user"
        device.save()
        record(
            "notify.device_updated",
            actor=user,
            obj=device,
            detail={k: v for k, v in changes.items() if k != "subscription"},
        )
    return device


def remove_device(user: User, device: Device) -> None:
    from api.audit.recorder import record

    with transaction.atomic():
        record(
            "notify.device_removed",
            actor=user,
            obj=device,
            detail={"kind": device.kind, "label": device.label},
        )
        Device.objects.filter(pk=device.pk, user=user).delete()


def update_preferences(user: User, changes: dict[str, Any]) -> NotificationPreference:
    from api.audit.recorder import record

    with transaction.atomic():
        preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        for field in ("push_enabled", "sms_enabled", "sms_very_urgent_at_night"):
            if field in changes:
                setattr(preference, field, changes[field])
        preference.updated_at = timezone.now()
        preference.save()
        record("notify.preferences_changed", actor=user, obj=preference, detail=dict(changes))
    return preference
