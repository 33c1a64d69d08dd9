"""Celery tasks of the personal office. Docs: docs/personal-office.md#reminders.

``send_reminders`` (beat, every minute) reminds of events and notes whose time has
come; safe to run twice (notification dedup keys per occurrence and per note).
"""

from __future__ import annotations

from celery import shared_task

from api.office import actions


@shared_task(name="api.office.tasks.send_reminders")
def send_reminders() -> int:
    return actions.send_reminders()
