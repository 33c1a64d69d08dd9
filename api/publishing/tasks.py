"""Beat task of publishing: the must-read reminder (the feed import runs on the
connector layer: api/integrations/govsite).

Docs: docs/publishing.md#background-work. Safe to run twice: the reminder claims each
post with a compare-and-set.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="api.publishing.tasks.remind_must_reads")
def remind_must_reads() -> int:
    from api.publishing.actions.reading import due_for_reminder, remind_unread

    return sum(remind_unread(post_id) for post_id in due_for_reminder())
