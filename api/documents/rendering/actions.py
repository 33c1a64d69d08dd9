"""Storing renderings: ``store_rendering(document_id)`` renders a document and keeps the
PDF, versioned by content. Docs: docs/rendering.md#storage.

Idempotent: the file is named by its SHA-256 (``{document id}/{sha256}.pdf`` under
GOVDESK_RENDER_DIR, written atomically, never overwritten), and a ``RenderedPdf`` row
is added only when the bytes differ from the latest rendering of the document. The
row and its audit event (``document.rendered``) commit together, under a
``select_for_update`` of the document so two concurrent renderings queue; if the
document changed while it was being rendered, it is rendered again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from api.audit.recorder import record
from api.documents.models import Document, RenderedPdf
from api.documents.rendering.render import RenderResult, input_for, render

MAX_ATTEMPTS = 3


def pdf_path(rendering: RenderedPdf) -> Path:
    """The stored file of a rendering."""
    return Path(settings.GOVDESK_RENDER_DIR) / rendering.path


def _write_once(relative: str, data: bytes) -> None:
    target = Path(settings.GOVDESK_RENDER_DIR) / relative
    if target.is_file() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def store_rendering(document_id: int) -> tuple[RenderedPdf, bool]:
    """Render the document and store the result → (rendering, created)."""
    for _ in range(MAX_ATTEMPTS):
        document = Document.objects.select_related("unit").get(pk=document_id)
        result: RenderResult = render(input_for(document))  # slow: outside the transaction
        digest = hashlib.sha256(result.pdf).hexdigest()
        relative = f"{document.pk}/{digest}.pdf"
        _write_once(relative, result.pdf)
        with transaction.atomic():
            locked = Document.objects.select_for_update(no_key=True).get(pk=document_id)
            if locked.version != document.version:
                continue  # changed while rendering: render the new state
            latest = RenderedPdf.objects.filter(document=locked).order_by("-version").first()
            if latest is not None and latest.sha256 == digest:
                return latest, False
            rendering = RenderedPdf.objects.create(
                document=locked,
                version=(latest.version + 1) if latest else 1,
                document_version=locked.version,
                sha256=digest,
                path=relative,
                size=len(result.pdf),
                meta=result.meta(),
            )
            record(
                "document.rendered",
                obj=locked,
                detail={
                    "version": rendering.version,
                    "document_version": locked.version,
                    "sha256": digest,
                    "pages": result.page_count,
                },
            )
            return rendering, True
    raise RuntimeError(f"document {document_id} kept changing while it was rendered")
