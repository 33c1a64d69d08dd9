"""Schedule sources: entries from other modules merged into a person's schedule.

Docs: docs/personal-office.md#schedule-sources. ``settings.GOVDESK_SCHEDULE_SOURCES``
lists dotted paths of callables ``fn(user, start, end) -> list[dict]`` whose dicts
have the keys ``source, source_id, title, start, end, place, url, busy``. They are
imported by name, so the office app never imports meetings (a higher layer)
statically. A provider that fails is logged and skipped: the schedule still opens.

``document_deadlines`` is the office app's own provider: the time limits (办理时限)
of the person's open document tasks, from the workflow's selectors.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from api.accounts.models import User
from api.workflow.selectors import todo_tasks

logger = logging.getLogger(__name__)
KEYS = ("source", "source_id", "title", "start", "end", "place", "url", "busy")


def document_deadlines(user: User, start: datetime, end: datetime) -> list[dict[str, Any]]:
    tasks = todo_tasks(user).filter(due_at__gte=start, due_at__lt=end)[:200]
    return [
        {
            "source": "document_deadline",
            "source_id": str(task.pk),
            "title": f"办理时限：{task.document.title}",
            "start": task.due_at,
            "end": task.due_at,
            "place": "",
            "url": f"/tasks/{task.pk}",
            "busy": False,
        }
        for task in tasks
    ]


def entries(user: User, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every configured provider's entries for ``user`` in the window."""
    found: list[dict[str, Any]] = []
    for path in settings.GOVDESK_SCHEDULE_SOURCES:
        try:
            provider = import_string(path)
            for item in provider(user, start, end) or []:
                found.append({key: item.get(key) for key in KEYS})
        except Exception:  # one broken module must not break the schedule
            logger.exception("schedule source %s failed", path)
    return found
