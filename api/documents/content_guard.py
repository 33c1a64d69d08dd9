"""The classification guard on content: attachment text and, at submission, the body.

Docs: docs/documents.md#classification-markings-in-content.

The text comes from the extraction that already exists — no second one:

* plain-text attachments: the file itself (UTF-8 or GB18030, as detected at upload),
  scanned line by line at upload;
* PDF attachments: the preview pipeline (``previews.convert`` is a copy for a PDF) and
  its page text (``pdftotext -layout`` per page), scanned page by page at upload;
* Word / Excel / PowerPoint attachments: the text of the preview that the Celery task
  ``convert_preview`` makes after commit; the task scans it as soon as the preview is
  ready (``previews.scan_markings``), and a content seen before (same SHA-256) is
  scanned at upload already;
* images and OFD have no extracted text: ``unchecked`` (a known limit).

A marking found at upload refuses the upload (422 ``classified_refused`` with the
place; nothing stored). A marking found later by the task, or an office attachment
whose preview is still being made, blocks the document's submission
(``refuse_if_content_classified``: 422 with the place, or 409
``attachment_check_pending``), so a classified attachment never enters a workflow.
"""

from __future__ import annotations

import logging
from pathlib import Path

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import ApiError
from api.documents import attachments as files
from api.documents import previews
from api.documents.classification import Marking, check_body, find_content_marking
from api.documents.models import Attachment, Document
from api.documents.selectors import live_attachments

logger = logging.getLogger(__name__)

MAX_TEXT_BYTES = 20 * 1024 * 1024  # plain-text attachments scanned up to this size


def _text_scan(path: Path, content_type: str) -> dict:
    encoding = "gb18030" if "gb18030" in content_type else "utf-8"
    with path.open("rb") as stream:
        data = stream.read(MAX_TEXT_BYTES)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    found = find_content_marking(data.decode(encoding, errors="replace"))
    if found is None:
        return {"state": "clean"}
    rule, text, line = found
    return {"state": "flagged", "line": line, "rule": rule, "marking": text}


def scan_file(path: Path, sha256: str, kind: str, content_type: str, *, at_upload: bool) -> dict:
    """The content check of one stored file: ``{"state": "clean" | "flagged" |
    "pending" | "unchecked", ...}``; a flagged one names ``page`` (or ``line``),
    ``rule`` and ``marking``. At upload, a PDF is scanned at once; an office file
    only when its preview exists already."""
    if kind == "text":
        return _text_scan(path, content_type)
    if kind == "pdf" and at_upload and previews.state(sha256)["state"] == "none":
        previews.convert(path, sha256, kind)
    if kind in previews.PREVIEWABLE:
        return previews.scan_markings(sha256)
    return {"state": "unchecked", "reason": "no_text"}


def marking_of(name: str, result: dict) -> Marking | None:
    """The ``Marking`` of a flagged scan result of the attachment named ``name``."""
    if result.get("state") != "flagged":
        return None
    place: dict[str, object] = {"attachment": name}
    for key in ("page", "line"):
        if key in result:
            place[key] = result[key]
    return Marking("attachment", str(result.get("rule", "")), str(result.get("marking", "")), place)


def forget_refused(sha256: str) -> None:
    """Drop the preview made while checking a refused upload, unless another
    attachment holds the same content."""
    if not Attachment.objects.filter(sha256=sha256).exists():
        previews.forget(sha256)


def refuse_if_content_classified(actor: User, document: Document) -> frozenset[int]:
    """Called before a document is submitted into a workflow: 422
    ``classified_refused`` (audited, with the place) when the body or a live
    attachment carries a marking; 409 ``attachment_check_pending`` (audited) while an
    office attachment's text is still being extracted. Returns the ids of the
    attachments checked: the caller compares them under its lock
    (``unchanged_since_check``), so an upload racing the submission is not let through."""
    from api.documents.actions import refuse_marking

    marking = check_body(document.body)
    if marking is not None:
        refuse_marking(actor, marking, "submit", document)
    checked = []
    for attachment in live_attachments(document):
        checked.append(attachment.pk)
        path = files.path_for(attachment.storage_key)
        result = scan_file(
            path, attachment.sha256, attachment.kind, attachment.content_type, at_upload=False
        )
        found = marking_of(attachment.original_name, result)
        if found is not None:
            refuse_marking(actor, found, "submit", document)
        if result["state"] == "pending":
            previews.request_preview(path, attachment.sha256, attachment.kind)
            record_denied(
                "document.classified_check_pending",
                actor=actor,
                obj=document,
                detail={"attachment_id": attachment.pk, "name": attachment.original_name},
            )
            raise ApiError(
                "attachment_check_pending",
                status_code=409,
                extra={"attachment": {"id": attachment.pk, "name": attachment.original_name}},
            )
        if result["state"] == "unchecked":
            logger.info(
                "classification guard: attachment %s of document %s not checked (%s)",
                attachment.pk,
                document.pk,
                result.get("reason"),
            )
    return frozenset(checked)


def unchanged_since_check(document: Document, checked: frozenset[int]) -> None:
    """409 ``attachment_check_pending`` when the live attachments are no longer the
    ones checked (call it with the document row locked)."""
    if frozenset(live_attachments(document).values_list("pk", flat=True)) != checked:
        raise ApiError("attachment_check_pending", status_code=409)
