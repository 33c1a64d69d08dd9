"""Celery tasks of internal mail. Docs: docs/mail.md#delivery.

``deliver(mail_id)`` fans a large send out (entries and notifications for every
person the addresses reach); it is enqueued after the send commits and is safe to
run twice: it locks the mail, exits when ``fanout_done``, and creates only missing
entries. ``finish_pending`` (beat) re-runs sends whose fan-out a lost message left
unfinished.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from api.mail import actions
from api.mail.models import Mail, MailState


@shared_task(name="api.mail.tasks.deliver")
def deliver(mail_id: int) -> int:
    return actions.deliver(int(mail_id))


@shared_task(name="api.mail.tasks.finish_pending")
def finish_pending(older_than_seconds: int = 120) -> int:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    done = 0
    for mail_id in Mail.objects.filter(
        fanout_done=False, state=MailState.SENT, sent_at__lt=cutoff
    ).values_list("pk", flat=True)[:100]:
        actions.deliver(mail_id)
        done += 1
    return done
