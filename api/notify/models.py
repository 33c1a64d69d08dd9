"""Notification models: the in-app notification, the delivery outbox, devices,
per-user preferences and the health of each delivery channel.

Docs: docs/notifications.md. Rows change only in api/notify/actions.py (notify,
read marks, device and preference changes), api/notify/delivery.py (the worker's
claim/lease/finish), api/notify/ladder.py (the escalation ladder) and
api/notify/receipts.py (SMS delivery receipts).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    TASK_OPENED = "task_opened", "新待办"
    URGE = "urge", "催办"
    ESCALATION = "escalation", "临期提醒"
    EXCHANGE = "exchange", "公文交换"
    SUPERVISION = "supervision", "督查督办"
    SYSTEM = "system", "系统消息"


class Urgency(models.TextChoices):
    # The same four values as notifications.channels.base.Urgency.
    LOW = "low", "低"
    NORMAL = "normal", "普通"
    HIGH = "high", "加急"
    VERY_URGENT = "very_urgent", "特急"


class Notification(models.Model):
    """One thing one person should know about; the in-app channel itself.

    ``(recipient, dedup_key)`` is unique: a second ``notify`` for the same event is a
    no-op, so a task opened, retried or re-sent never reminds twice. The ladder
    fields say when the next rung is due and whether it has fired.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    task = models.ForeignKey(
        "workflow.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)
    dedup_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The ladder (docs/notifications.md#the-ladder). Null "due" = that rung never fires.
    sms_due_at = models.DateTimeField(null=True, blank=True)
    sms_done_at = models.DateTimeField(null=True, blank=True, help_text="SMS rung fired/settled")
    sms_held_at = models.DateTimeField(
        null=True, blank=True, help_text="first time quiet hours held the SMS rung"
    )
    escalate_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The per-person IM rung (XMPP), before SMS; null due = not configured / never.
    xmpp_due_at = models.DateTimeField(null=True, blank=True)
    xmpp_done_at = models.DateTimeField(null=True, blank=True, help_text="IM rung fired/settled")
    ladder_note = models.CharField(max_length=200, blank=True, help_text="why a rung was skipped")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="notification_unique_recipient_dedup"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["sms_due_at"],
                condition=Q(read_at__isnull=True, sms_done_at__isnull=True),
                name="notification_sms_rung_idx",
            ),
            models.Index(
                fields=["xmpp_due_at"],
                condition=Q(read_at__isnull=True, xmpp_done_at__isnull=True),
                name="notification_xmpp_rung_idx",
            ),
            models.Index(
                fields=["escalate_due_at"],
                condition=Q(read_at__isnull=True, escalated_at__isnull=True),
                name="notification_escalate_idx",
            ),
            models.Index(fields=["task", "recipient"], name="notification_task_idx"),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} {self.kind} → {self.recipient_id}"


class DeviceKind(models.TextChoices):
    FCM = "fcm", "FCM 推送"
    WEBPUSH = "webpush", "Web Push"


class Device(models.Model):
    """A push address of one user: an FCM registration token or a browser's Web Push
    subscription. ``address_key`` (sha256 of the token / endpoint) finds the same
    address again: registering it twice updates the row; registered by another user,
    it moves to them (whoever signed in last on that phone owns its pushes)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices"
    )
    kind = models.CharField(max_length=10, choices=DeviceKind.choices)
    token = models.TextField(blank=True, help_text="FCM registration token")
    subscription = models.JSONField(
        null=True, blank=True, help_text="Web Push {endpoint, keys: {p256dh, auth}}"
    )
    address_key = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # Per-device preferences (the user's own switches; see NotificationPreference).
    push_enabled = models.BooleanField(default=True)
    min_urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.LOW)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "address_key"], name="device_unique_address")
        ]
        indexes = [models.Index(fields=["user", "enabled"], name="device_user_idx")]

    def __str__(self) -> str:
        return f"device {self.pk} {self.kind} of {self.user_id}"

    @property
    def address(self) -> str:
        """The channel's ``Message.recipient``: the token, or the subscription JSON."""
        if self.kind == DeviceKind.FCM:
            return self.token
        import json

        return json.dumps(self.subscription or {}, separators=(",", ":"), sort_keys=True)


class NotificationPreference(models.Model):
    """A user's own switches. Quiet hours are not here on purpose: a user cannot
    turn them off for non-urgent items (docs/notifications.md#quiet-hours)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    push_enabled = models.BooleanField(default=True)
    sms_enabled = models.BooleanField(default=True)
    # Very urgent SMS ignore quiet hours unless the user opts out.
    sms_very_urgent_at_night = models.BooleanField(default=True)
    # Set by the worker when the provider called the number invalid; SMS to it stop
    # until the user's mobile number changes.
    bad_mobile = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class Channel(models.TextChoices):
    FCM = "fcm", "FCM 推送"
    WEBPUSH = "webpush", "Web Push"
    SMS = "sms", "短信"
    IM = "im", "办公 IM 机器人"
    XMPP = "xmpp", "办公 IM（个人）"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已送达服务商"
    FAILED = "failed", "失败"
    SKIPPED = "skipped", "已跳过"


class ReceiptState(models.TextChoices):
    """What the handset side reported (SMS delivery receipts); blank = none yet."""

    DELIVERED = "delivered", "已送达手机"
    FAILED = "failed", "未送达"
    EXPIRED = "expired", "已过期"


class Delivery(models.Model):
    """One outbox row: one notification on one channel to one address.

    Written in the same transaction as the notification (push) or by the ladder
    (SMS, IM); delivered by api.notify.delivery. ``id`` is the provider-facing
    idempotency key. Unique per (notification, channel, device) so the same event is
    never queued twice on a channel."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    address = models.TextField(blank=True, help_text="phone number / webhook (non-device)")
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_detail = models.CharField(max_length=300, blank=True)
    # The SMSC's delivery receipts for every part (api/notify/receipts.py).
    receipt_state = models.CharField(max_length=10, choices=ReceiptState.choices, blank=True)
    receipt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel", "device"],
                condition=Q(device__isnull=False),
                name="delivery_unique_per_device",
            ),
            models.UniqueConstraint(
                fields=["notification", "channel"],
                condition=Q(device__isnull=True),
                name="delivery_unique_per_channel",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_due_idx",
            ),
            models.Index(
                fields=["lease_until"],
                condition=Q(state="sending"),
                name="delivery_lease_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} {self.channel} {self.state}"

    @property
    def idempotency_key(self) -> str:
        return f"govdesk-delivery-{self.pk}"


class SmsPart(models.Model):
    """One message id an SMS centre gave (one per concatenated part) and its delivery
    receipt. Written by the worker when the SMSC accepts a part and by the receipt
    receiver when a receipt arrives, whichever comes first (``message_id`` is unique,
    so the second one completes the row)."""

    message_id = models.CharField(max_length=65, unique=True)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.CASCADE, related_name="sms_parts"
    )
    receipt_state = models.CharField(max_length=10, choices=ReceiptState.choices, blank=True)
    stat = models.CharField(max_length=10, blank=True, help_text="the receipt's stat: DELIVRD…")
    error = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    receipt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"sms part {self.message_id} {self.receipt_state or 'waiting'}"


class ChannelHealth(models.Model):
    """A channel marked broken by a permanent configuration error (bad credentials,
    rejected template). It stays broken while the configuration is the one that
    failed (``config_fingerprint``); changing the settings heals it."""

    channel = models.CharField(max_length=10, choices=Channel.choices, unique=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    config_fingerprint = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_detail = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.channel} broken={self.broken_at is not None}"


class UrgeWindow(models.Model):
    """How often one person was urged about one item in the current window, across
    every urger and both task urges (api/urging) and supervision urges
    (api/supervision); docs/urging.md#the-cap-per-person-and-item. One row per
    (person, item), locked (``select_for_update``) by every urge of that pair, so the
    cap and the one SMS per window hold under concurrency."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # "document:<id>" (a task urge, or a supervised item about a document) or
    # "supervision:<id>" (a supervised item without a document).
    item = models.CharField(max_length=64)
    window_start = models.DateTimeField(help_text="first counted urge of the current window")
    count = models.PositiveIntegerField(default=0, help_text="urges let through in the window")
    sms_at = models.DateTimeField(
        null=True, blank=True, help_text="the last urge that was allowed to climb to SMS"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "item"], name="urge_window_person_item")
        ]

    def __str__(self) -> str:
        return f"urge window {self.person_id} {self.item} ×{self.count}"
