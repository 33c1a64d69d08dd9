"""Celery tasks of the documents app. Docs: docs/rendering.md#the-task.

``render_document(document_id)`` renders a document in the GB/T 9704 layout and stores
the PDF (``api.documents.rendering.actions.store_rendering``). Safe to run twice: an
unchanged document gives the identical stored version and no new row. The workflow
engine should send it after the number step (``assign_number``), on commit.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from api.documents.models import Document
from api.documents.pages import render_page_images
from api.documents.rendering.actions import store_rendering

logger = logging.getLogger(__name__)


@shared_task(name="api.documents.tasks.render_document")
def render_document(document_id: int) -> dict | None:
    try:
        rendering, created = store_rendering(document_id)
    except Document.DoesNotExist:
        logger.warning("render_document: document %s does not exist", document_id)
        return None
    transaction.on_commit(lambda: render_page_images.delay(document_id))
    return {
        "document": document_id,
        "rendering": rendering.pk,
        "version": rendering.version,
        "sha256": rendering.sha256,
        "created": created,
    }
