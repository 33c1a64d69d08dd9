"""Beat tasks of meetings. Docs: docs/meetings.md#background-work.

Both are safe to run twice: reminders are de-duplicated by key, the sweep re-reads
which rooms are open and which tokens expired.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="api.meetings.tasks.remind_upcoming")
def remind_upcoming() -> int:
    from api.meetings.actions import remind_upcoming as remind

    return remind()


@shared_task(name="api.meetings.tasks.sweep_rooms")
def sweep_rooms() -> int:
    from api.meetings.actions import sweep_rooms as sweep

    return sweep()
