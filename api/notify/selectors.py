"""Read-side helpers of notifications. Docs: docs/notifications.md#delivery-trail.

``trail(notification)`` is how a reminder travelled: the in-app notification (read or
not), then every outbox row in the order it was queued (push, the per-person IM,
SMS, the office-IM robot) with its real outcome — accepted by the provider (``sent``),
and for SMS over SMPP what the handset side reported (``delivered`` / ``failed`` /
``expired`` from the SMSC's receipts) — and why a rung did not fire (``ladder_note``).
Two queries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from api.notify.models import Channel, Delivery, DeliveryState, Notification


def _masked(delivery: Delivery) -> str:
    if delivery.channel == Channel.SMS and len(delivery.address) >= 7:
        return delivery.address[:3] + "****" + delivery.address[-4:]
    if delivery.channel == Channel.XMPP:
        return delivery.address
    return ""  # device tokens and robot webhooks are secrets


def outcome_of(delivery: Delivery) -> str:
    """One word for the row: ``delivered`` / ``failed`` / ``expired`` per the handset
    receipts when there are any, else the outbox state (``sent`` = the provider took it)."""
    if delivery.receipt_state:
        return delivery.receipt_state
    return delivery.state


def trail(notification: Notification) -> dict[str, Any]:
    rows = (
        Delivery.objects.filter(notification=notification)
        .annotate(part_count=Count("sms_parts"))
        .order_by("created_at", "id")
    )
    steps: list[dict[str, Any]] = [
        {
            "rung": "in_app",
            "outcome": "read" if notification.read_at else "unread",
            "at": notification.created_at,
            "finished_at": notification.read_at,
            "address": "",
            "attempts": 0,
            "parts": 0,
            "error_code": "",
        }
    ]
    for row in rows:
        steps.append(
            {
                "rung": row.channel,
                "outcome": outcome_of(row),
                "at": row.created_at,
                "finished_at": row.receipt_at or row.sent_at,
                "address": _masked(row),
                "attempts": row.attempts,
                "parts": row.part_count,
                "error_code": row.error_code if row.state != DeliveryState.SENT else "",
            }
        )
    return {
        "notification_id": notification.pk,
        "read_at": notification.read_at,
        "ladder_note": notification.ladder_note,
        "steps": steps,
    }
