"""Celery tasks of the documents app. Docs: docs/rendering.md#the-task.

``render_document(document_id)`` renders a document in the GB/T 9704 layout and stores
the PDF (``api.documents.rendering.actions.store_rendering``). Safe to run twice: an
unchanged document gives the identical stored version and no new row. The workflow
engine should send it after the number step (``assign_number``), on commit.
"""

from __future__ import annotations

import logging

from celery import shared_task

from api.common.enqueue import enqueue_after_commit
from api.documents.models import Document
from api.documents.rendering.actions import store_rendering

logger = logging.getLogger(__name__)


@shared_task(name="api.documents.tasks.render_document")
def render_document(document_id: int) -> dict | None:
    try:
        rendering, created = store_rendering(document_id)
    except Document.DoesNotExist:
        logger.warning("render_document: document %s does not exist", document_id)
        return None
    enqueue_after_commit("api.documents.pages.render_page_images", document_id)
    return {
        "document": document_id,
        "rendering": rendering.pk,
        "version": rendering.version,
        "sha256": rendering.sha256,
        "created": created,
    }


@shared_task(name="api.documents.tasks.sweep_orphans", ignore_result=True)
def sweep_orphans() -> dict[str, int]:
    """Removes upload temp files, ``.part`` files and unreferenced attachment files a
    crash left behind (docs/documents.md#orphans). Safe to run twice."""
    from api.documents.orphans import sweep

    return sweep()
