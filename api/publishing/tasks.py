"""Beat tasks of publishing: the feed import and the must-read reminder.

Docs: docs/publishing.md#background-work. Both are safe to run twice: the import
de-duplicates by source id, the reminder claims each post with a compare-and-set.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="api.publishing.tasks.import_feeds")
def import_feeds() -> int:
    from api.publishing.actions.imports import feed_channel_ids, import_channel

    return sum(import_channel(channel_id) for channel_id in feed_channel_ids())


@shared_task(name="api.publishing.tasks.remind_must_reads")
def remind_must_reads() -> int:
    from api.publishing.actions.reading import due_for_reminder, remind_unread

    return sum(remind_unread(post_id) for post_id in due_for_reminder())
