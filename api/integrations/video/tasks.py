"""Celery tasks of the video connector. Docs: docs/integrations.md#video-viewing."""

from __future__ import annotations

from celery import shared_task

from api.integrations.video import actions


@shared_task(name="api.integrations.video.tasks.close_stale_views")
def close_stale_views() -> int:
    """End the views whose page went away without a stop (safe to run twice)."""
    return actions.close_stale_views()
