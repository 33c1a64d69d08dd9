"""The reminder ladder and quiet hours. Docs: docs/notifications.md#the-ladder.

In-app and push happen at once (api/notify/actions.notify). This module runs the
later rungs from Celery beat (``api.notify.tasks.run_ladder``, every 30 s) and takes
``now`` so tests drive it on their own clock:

* **Office IM (XMPP)** when a notification is still unread
  ``GOVDESK_NOTIFY_XMPP_AFTER_MINUTES`` after it was created (only when an XMPP
  service account is configured): a direct chat message to the person's JID
  (``registry.jid_for``). The same rules as SMS: reading stops it, the task no longer
  open stops it, quiet hours hold it (very urgent ones go at night).
* **SMS** when a notification is still unread ``GOVDESK_NOTIFY_SMS_AFTER_MINUTES``
  (per urgency) after it was created — unless the user switched SMS off, has no
  usable mobile number, or it is quiet hours (only very urgent ones go out at
  night). A held SMS stays due and goes out on the first run after quiet hours. The
  worker checks quiet hours again when it sends (api/notify/delivery.py): an SMS
  queued just before the window, or retried into it, waits for the morning too.
* **Escalation** when a task's notification is still unread and the task still open
  ``GOVDESK_NOTIFY_ESCALATE_BEFORE_MINUTES`` before its deadline: the unit's clerk(s)
  and the A/B backup of the assignee's posts are told (their own notifications,
  which climb their own ladder), and the office-IM robot once when configured.

Reading the notification, or the task no longer being open, stops the ladder. Every
rung is claimed with a conditional UPDATE, so two beat runs never fire it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.accounts.models import Post, Role, RoleAssignment, User
from api.notify.actions import notify, preference_of, queue_delivery
from api.notify.models import Channel, Kind, Notification, Urgency

logger = logging.getLogger(__name__)

BATCH = 500


def in_quiet_hours(now: datetime) -> bool:
    window = settings.GOVDESK_NOTIFY_QUIET_HOURS
    if window is None:
        return False
    start, end = window
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # spans midnight


def quiet_hours_end(now: datetime) -> datetime | None:
    """When the quiet-hours window ``now`` lies in ends; None outside the window."""
    window = settings.GOVDESK_NOTIFY_QUIET_HOURS
    if window is None or not in_quiet_hours(now):
        return None
    start, end = window
    zone = ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    day = local.date()
    if start > end and local.time() >= start:  # the evening part of a window over midnight
        day += timedelta(days=1)
    return datetime.combine(day, end, zone)


def sms_may_go_at_night(notification: Notification) -> bool:
    """Only very urgent SMS go out in quiet hours, unless the recipient refused them."""
    return (
        notification.urgency == Urgency.VERY_URGENT
        and preference_of(notification.recipient).sms_very_urgent_at_night
    )


def _task_open(notification: Notification) -> bool:
    from api.workflow.models import TaskState

    task = notification.task
    return task is None or task.state == TaskState.OPEN


def _settle_sms(notification: Notification, now: datetime, note: str = "") -> bool:
    """Claim the SMS rung of ``notification``; False if another run already did."""
    fields: dict[str, object] = {"sms_done_at": now}
    if note:
        fields["ladder_note"] = note[:200]
    return bool(
        Notification.objects.filter(
            pk=notification.pk, sms_done_at__isnull=True, read_at__isnull=True
        ).update(**fields)
    )


def xmpp_rung(now: datetime) -> dict[str, int]:
    from api.notify import registry

    counts = {"queued": 0, "held": 0, "stopped": 0}
    due = Notification.objects.filter(
        read_at__isnull=True, xmpp_done_at__isnull=True, xmpp_due_at__lte=now
    )
    if in_quiet_hours(now):
        # Held in place (they stay due) except very urgent ones.
        counts["held"] = due.exclude(urgency=Urgency.VERY_URGENT).count()
        due = due.filter(urgency=Urgency.VERY_URGENT)
    batch = due.select_related("recipient", "recipient__notification_preference", "task")
    for notification in batch.order_by("xmpp_due_at", "id")[:BATCH]:
        stop = ""
        if not _task_open(notification):
            stop = "task_no_longer_open"
        elif not registry.xmpp_configured():
            stop = "xmpp_not_configured"
        with transaction.atomic():
            fields: dict[str, object] = {"xmpp_done_at": now}
            if stop:
                fields["ladder_note"] = stop
            claimed = Notification.objects.filter(
                pk=notification.pk, xmpp_done_at__isnull=True, read_at__isnull=True
            ).update(**fields)
            if not claimed:
                continue
            if stop:
                counts["stopped"] += 1
                continue
            queue_delivery(
                notification, Channel.XMPP, registry.jid_for(notification.recipient.username), now
            )
            counts["queued"] += 1
    return counts


def sms_rung(now: datetime) -> dict[str, int]:
    counts = {"queued": 0, "held": 0, "stopped": 0}
    quiet = in_quiet_hours(now)
    due = Notification.objects.filter(
        read_at__isnull=True, sms_done_at__isnull=True, sms_due_at__lte=now
    )
    if quiet:
        # Only very urgent ones may go out now. The rest are held in one statement, so
        # a night's backlog never crowds a very urgent one out of the batch.
        waiting = due.exclude(urgency=Urgency.VERY_URGENT)
        waiting.filter(sms_held_at__isnull=True).update(
            sms_held_at=now, ladder_note="held_by_quiet_hours"
        )
        counts["held"] = waiting.count()
        due = due.filter(urgency=Urgency.VERY_URGENT)
    batch = due.select_related("recipient", "recipient__notification_preference", "task").order_by(
        "sms_due_at", "id"
    )[:BATCH]
    for notification in batch:
        recipient = notification.recipient
        preference = preference_of(recipient)
        mobile = recipient.mobile.strip()
        stop = ""
        if not _task_open(notification):
            stop = "task_no_longer_open"
        elif not preference.sms_enabled:
            stop = "sms_off_by_user"
        elif not mobile:
            stop = "no_mobile_number"
        elif preference.bad_mobile and preference.bad_mobile == mobile:
            stop = "mobile_number_invalid"
        if stop:
            _settle_sms(notification, now, stop)
            counts["stopped"] += 1
            continue
        if quiet and not sms_may_go_at_night(notification):
            if notification.sms_held_at is None:
                Notification.objects.filter(pk=notification.pk, sms_held_at__isnull=True).update(
                    sms_held_at=now, ladder_note="held_by_quiet_hours"
                )
            counts["held"] += 1
            continue
        with transaction.atomic():
            if _settle_sms(notification, now):
                queue_delivery(notification, Channel.SMS, mobile, now)
                counts["queued"] += 1
    return counts


def escalation_targets(notification: Notification) -> list[User]:
    """The clerk(s) of the recipient's unit (and of the body it belongs to) and the
    A/B backup of every post the recipient holds; never the recipient themself."""
    from api.accounts.roles import organisation_of

    recipient = notification.recipient
    units = {recipient.unit_id, organisation_of(recipient.unit).pk}
    clerk_ids = RoleAssignment.objects.filter(role=Role.CLERK, unit_id__in=units).values("user_id")
    backup_ids = Post.objects.filter(holder=recipient, backup__isnull=False).values("backup_id")
    people = User.objects.filter(
        Q(pk__in=clerk_ids) | Q(pk__in=backup_ids), is_active=True
    ).exclude(pk=recipient.pk)
    return list(people.order_by("pk"))


def escalation_rung(now: datetime) -> dict[str, int]:
    counts = {"escalated": 0, "told": 0, "stopped": 0}
    due = (
        Notification.objects.filter(
            kind=Kind.TASK_OPENED,
            read_at__isnull=True,
            escalated_at__isnull=True,
            escalate_due_at__lte=now,
        )
        .select_related("recipient", "recipient__unit", "task", "task__document")
        .order_by("escalate_due_at", "id")[:BATCH]
    )
    for notification in due:
        with transaction.atomic():
            claimed = Notification.objects.filter(
                pk=notification.pk, escalated_at__isnull=True, read_at__isnull=True
            ).update(escalated_at=now)
            if not claimed:
                continue
            if not _task_open(notification):
                Notification.objects.filter(pk=notification.pk).update(
                    ladder_note="task_no_longer_open"
                )
                counts["stopped"] += 1
                continue
            task = notification.task
            assert task is not None
            who = notification.recipient.display_name or notification.recipient.username
            title = f"临期未办：{task.document.title}（{who}）"
            first = None
            for target in escalation_targets(notification):
                created = notify(
                    recipient=target,
                    kind=Kind.ESCALATION,
                    title=title,
                    body=f"{task.step_name}，办理期限 {timezone.localtime(task.due_at):%m-%d %H:%M}"
                    if task.due_at
                    else task.step_name,
                    task=task,
                    document=task.document,
                    urgency=notification.urgency,
                    dedup_key=f"escalation:{task.pk}:{notification.recipient_id}",
                    now=now,
                )
                if created is not None:
                    counts["told"] += 1
                    first = first or created
            if first is not None and settings.GOVDESK_NOTIFY_IM_WEBHOOK_URL:
                # One message to the office group per escalation, not one per clerk.
                queue_delivery(first, Channel.IM, "", now)
            counts["escalated"] += 1
    return counts


def run(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """One pass of every later rung at ``now``."""
    now = now or timezone.now()
    return {"xmpp": xmpp_rung(now), "sms": sms_rung(now), "escalation": escalation_rung(now)}
