"""Every state change of a document, one function each. Docs: docs/documents.md.

Each function is atomic, locks the document row (``select_for_update``) and writes
its audit event in the same transaction. Checks that can refuse — visibility (404),
permission (403), the classification guard (422) — run first, outside any
transaction, so that a refused attempt is recorded durably (``record_denied``).
Every change bumps ``Document.version`` by one and leaves a ``DocumentVersion``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from api.accounts.models import Unit, User
from api.accounts.roles import is_member_of
from api.audit.recorder import record, record_denied
from api.common.enqueue import enqueue_after_commit
from api.common.errors import ApiError, Conflict, Forbidden, NotFound, message_for
from api.common.i18n import t
from api.documents import attachments as files
from api.documents import content_guard, intake, numbering
from api.documents.classification import Marking, check_fields, describe_place
from api.documents.fields import clean_values
from api.documents.models import (
    EDITABLE_FIELDS,
    Attachment,
    Classification,
    Direction,
    Document,
    DocumentStatus,
    DocumentVersion,
    NumberAssignment,
    NumberVoid,
)
from api.documents.selectors import (
    attachment_or_404,
    can_edit,
    can_void_number,
    document_or_404,
    live_attachments,
)

# --- helpers ------------------------------------------------------------------------------


def refuse_if_classified(
    actor: User | None, values: dict[str, Any], where: str, document: Document | None = None
) -> None:
    """422 ``classified_refused`` when ``values`` carry a classification; the attempt is
    recorded as denied first (``document.classified_refused``). Nothing is stored."""
    marking = check_fields(values)
    if marking is not None:
        refuse_marking(actor, marking, where, document)


def refuse_marking(
    actor: User | None, marking: Marking, where: str, document: Document | None = None
) -> None:
    """Record the denied attempt (outside any transaction), then raise 422
    ``classified_refused`` naming the field and, for content, the place (body
    paragraph, or attachment and page/line) in ``place`` and in the message."""
    record_denied(
        "document.classified_refused",
        actor=actor,
        obj=document,
        object_type="" if document else "documents.document",
        unit_id=None if document else getattr(actor, "unit_id", None),
        detail={
            "where": where,
            "field": marking.field,
            "rule": marking.rule,
            "marking": marking.text,
            **({"place": marking.place} if marking.place else {}),
        },
    )
    message = message_for("classified_refused")
    extra: dict[str, Any] = {}
    if marking.place:
        where_found = describe_place(marking.place)
        message = t(f"{message}（位置：{where_found}）", f"{message} (found in {where_found})")
        extra = {"place": {"field": marking.field, **marking.place}}
    raise ApiError(
        "classified_refused",
        message=message,
        status_code=422,
        fields={marking.field: [message]},
        extra=extra,
    )


def _deny(action: str, actor: User, document: Document, reason: str) -> None:
    record_denied(action, actor=actor, obj=document, detail={"reason": reason})
    raise Forbidden()


def _lock(document_id: int) -> Document:
    document = Document.objects.select_for_update(no_key=True).filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    return document


def _require_editable(document: Document) -> None:
    if not document.is_editable:
        raise Conflict("document_not_editable", extra={"status": document.status})


def _bump(document: Document, actor: User | None, changed: list[str], fields: list[str]) -> None:
    """Save ``fields`` with the next version and write the DocumentVersion."""
    document.version += 1
    document.updated_at = timezone.now()
    document.save(update_fields=[*fields, "version", "updated_at"])
    _write_version(document, actor, changed)


def _write_version(document: Document, actor: User | None, changed: list[str]) -> None:
    attachments = [a.summary() for a in live_attachments(document)]
    DocumentVersion.objects.create(
        document=document,
        version=document.version,
        edited_by=actor,
        edited_at=document.updated_at,
        changed_fields=changed,
        snapshot=document.snapshot(attachments),
    )


# --- drafts and edits ---------------------------------------------------------------------


def create_draft(actor: User, **fields: Any) -> Document:
    """A new draft (拟稿) owned by ``unit`` (default: the drafter's unit), version 1.

    Fields: direction, title, doc_type, urgency, classification, body,
    main_recipients, cc, header_text, unit (a Unit or its id, in the drafter's body)."""
    unit_value = fields.pop("unit", None)
    allowed = {"direction", *EDITABLE_FIELDS}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ApiError(
            "unknown_field",
            fields={name: [t("不允许的字段。", "Unknown field.")] for name in unknown},
        )
    refuse_if_classified(actor, fields, "create")
    values = clean_values(fields)
    if values.get("direction") not in Direction.values:
        raise ApiError(
            "validation_error",
            fields={
                "direction": [t("须为 outgoing 或 incoming。", "Must be outgoing or incoming.")]
            },
        )
    for required in ("title", "doc_type"):
        if required not in values:
            raise ApiError("validation_error", fields={required: [t("必填。", "Required.")]})
    unit = actor.unit
    if unit_value is not None:
        unit_id = unit_value.pk if isinstance(unit_value, Unit) else unit_value
        found = Unit.objects.filter(pk=unit_id).first() if isinstance(unit_id, int) else None
        if found is None or not is_member_of(actor, found):
            raise ApiError(
                "validation_error",
                fields={
                    "unit": [t("只能以本单位名义拟稿。", "You can draft only for your own unit.")]
                },
            )
        unit = found
    values["classification"] = Classification.NONE
    with transaction.atomic():
        now = timezone.now()
        document = Document.objects.create(
            unit=unit,
            drafter=actor,
            status=DocumentStatus.DRAFT,
            version=1,
            created_at=now,
            updated_at=now,
            **values,
        )
        _write_version(document, actor, ["created"])
        record(
            "document.created",
            actor=actor,
            obj=document,
            detail={"direction": document.direction, "doc_type": document.doc_type, "version": 1},
        )
    return document


def _check_can_edit(actor: User, document: Document, action: str) -> None:
    if not can_edit(actor, document):
        _deny(action, actor, document, "not_drafter_or_clerk")


def update_document(
    document_id: int, actor: User, changes: dict[str, Any], expected_version: int | None = None
) -> Document:
    """Apply ``changes`` to a draft or returned document (drafter or the unit's clerk).

    ``expected_version`` (optimistic concurrency): when given and the document has
    moved on, 409 ``version_conflict`` with ``current_version``. A change that
    changes nothing leaves the document (and its version) as it is."""
    document = document_or_404(actor, document_id)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ApiError(
            "unknown_field",
            fields={
                name: [t("不允许修改的字段。", "This field cannot be changed.")] for name in unknown
            },
        )
    _check_can_edit(actor, document, "document.update")
    refuse_if_classified(actor, changes, "update", document)
    values = clean_values(changes)
    with transaction.atomic():
        document = _lock(document_id)
        if expected_version is not None and document.version != expected_version:
            raise Conflict("version_conflict", extra={"current_version": document.version})
        _require_editable(document)
        changed = [name for name, value in values.items() if getattr(document, name) != value]
        if not changed:
            return document
        for name in changed:
            setattr(document, name, values[name])
        _bump(document, actor, changed, changed)
        record(
            "document.updated",
            actor=actor,
            obj=document,
            detail={"version": document.version, "changed_fields": changed},
        )
    return document


def set_status(document: Document, status: str) -> None:
    """Set the status (the workflow engine calls this inside its own transaction; no
    audit event of its own — the engine's action is the event). Bumps the version so
    ETags and If-Match see the change; ``document`` is updated in place."""
    if status not in DocumentStatus.values:
        raise ValueError(f"unknown document status {status!r}")
    with transaction.atomic():
        locked = _lock(document.pk)
        if locked.status != status:
            locked.status = status
            _bump(locked, None, ["status"], ["status"])
        document.status = locked.status
        document.version = locked.version
        document.updated_at = locked.updated_at


# --- attachments --------------------------------------------------------------------------


# Office files converted for reading on phones (api/documents/previews.py FILTERS).
PREVIEW_KINDS = frozenset({"docx", "xlsx", "pptx"})


def check_upload(upload: UploadedFile, name: str) -> files.FileType:
    """The accepted type of an upload named ``name`` (cleaned); 413
    ``attachment_too_large``, 400 for an empty or nameless file, 415
    ``attachment_type_refused`` when the content is refused or the extension disagrees.
    Shared by every module that stores files in the attachment store (publishing too)."""
    limit = settings.GOVDESK_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise ApiError(
            "attachment_too_large",
            status_code=413,
            extra={"max_bytes": limit},
        )
    if not name or size == 0:
        raise ApiError(
            "validation_error",
            fields={"file": [t("文件为空或没有文件名。", "The file is empty or has no name.")]},
        )
    upload.seek(0)
    if upload.file is None:
        raise ApiError("attachment_type_refused", status_code=415)
    # What the file becomes when opened: bombs, active content, polyglots (one gate).
    file_type = intake.accept(upload.file, size, name)
    upload.seek(0)
    return file_type


def add_attachment(document_id: int, actor: User, upload: UploadedFile) -> Attachment:
    """Store an uploaded file after checking its name (classification guard), size
    (413 ``attachment_too_large``) and content type (415 ``attachment_type_refused``),
    and the text of a plain-text or PDF file (or of an office file whose content was
    previewed before) for classification markings (422, nothing stored)."""
    document = document_or_404(actor, document_id)
    _check_can_edit(actor, document, "document.attachment_add")
    name = files.clean_name(upload.name or "")
    refuse_if_classified(actor, {"filename": name}, "attachment", document)
    _require_editable(document)
    file_type = check_upload(upload, name)
    key, sha256, stored_size = files.store(upload.chunks())
    try:
        # The classification guard on the file's text (docs/documents.md#content).
        scanned = content_guard.scan_file(
            files.path_for(key), sha256, file_type.kind, file_type.content_type, at_upload=True
        )
        found = content_guard.marking_of(name, scanned)
        if found is not None:
            files.discard(key)
            content_guard.forget_refused(sha256)
            refuse_marking(actor, found, "attachment", document)
        with transaction.atomic():
            document = _lock(document_id)
            _require_editable(document)
            attachment = Attachment.objects.create(
                document=document,
                original_name=name,
                kind=file_type.kind,
                content_type=file_type.content_type,
                size=stored_size,
                sha256=sha256,
                storage_key=key,
                uploaded_by=actor,
            )
            _bump(document, actor, ["attachments"], [])
            record(
                "document.attachment_added",
                actor=actor,
                obj=document,
                detail={
                    "attachment_id": attachment.pk,
                    "name": name,
                    "kind": file_type.kind,
                    "size": stored_size,
                    "sha256": sha256,
                    "version": document.version,
                },
            )
            if file_type.kind in PREVIEW_KINDS:  # readable on a phone (previews.py)
                enqueue_after_commit(
                    "api.documents.previews.convert_preview",
                    str(files.path_for(key)),
                    sha256,
                    file_type.kind,
                )
    except BaseException:
        files.discard(key)
        raise
    return attachment


def remove_attachment(document_id: int, attachment_id: int, actor: User) -> Document:
    """Remove an attachment from an editable document (soft delete: the file and the
    row are kept for the record; the attachment disappears from the document)."""
    document = document_or_404(actor, document_id)
    attachment = attachment_or_404(document, attachment_id)
    _check_can_edit(actor, document, "document.attachment_remove")
    with transaction.atomic():
        document = _lock(document_id)
        _require_editable(document)
        updated = Attachment.objects.filter(pk=attachment.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=actor
        )
        if updated != 1:
            raise NotFound()
        _bump(document, actor, ["attachments"], [])
        record(
            "document.attachment_removed",
            actor=actor,
            obj=document,
            detail={
                "attachment_id": attachment.pk,
                "name": attachment.original_name,
                "version": document.version,
            },
        )
    return document


# --- numbers ------------------------------------------------------------------------------


def assign_number(document_id: int, actor: User | None) -> str:
    """Give an outgoing, in-progress document its 发文字号 (called by the number step).

    Idempotent: a numbered document keeps (and returns) its number. 409
    ``number_not_applicable`` for an incoming document or one not in progress; 422
    ``number_prefix_missing`` when the unit has no prefix for the document's type."""
    with transaction.atomic():
        document = _lock(document_id)
        if document.doc_number:
            return document.doc_number
        if (
            document.direction != Direction.OUTGOING
            or document.status != DocumentStatus.IN_PROGRESS
        ):
            raise Conflict(
                "number_not_applicable",
                extra={"status": document.status, "direction": document.direction},
            )
        unit = Unit.objects.get(pk=document.unit_id)
        prefix = numbering.prefix_for(unit, document.doc_type)
        if not prefix:
            raise ApiError("number_prefix_missing", status_code=422)
        year = numbering.current_year()
        value = numbering.next_value(unit, prefix, year)
        number = numbering.format_number(prefix, year, value)
        NumberAssignment.objects.create(
            unit=unit,
            prefix=prefix,
            year=year,
            value=value,
            doc_number=number,
            document=document,
            assigned_by=actor,
        )
        document.doc_number = number
        _bump(document, actor, ["doc_number"], ["doc_number"])
        record(
            "document.numbered",
            actor=actor,
            obj=document,
            detail={"doc_number": number, "prefix": prefix, "year": year, "value": value},
        )
    return number


def void_number(document_id: int, actor: User, reason: str) -> Document:
    """Void (作废) the document's number: recorded (NumberVoid + audit), never reused.
    The document is left without a number; a later number step gives it a new one.
    Clerks and unit admins of the owning unit (or its body) only."""
    document = document_or_404(actor, document_id)
    if not can_void_number(actor, document):
        _deny("document.number_void", actor, document, "not_clerk_or_unit_admin")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 500 or "\x00" in reason:
        raise ApiError(
            "validation_error",
            fields={
                "reason": [
                    t("请填写作废原因（最多 500 字）。", "Give a reason (at most 500 characters).")
                ]
            },
        )
    with transaction.atomic():
        document = _lock(document_id)
        if not document.doc_number:
            raise Conflict("not_numbered")
        assignment = (
            # The document row's lock already serialises voids of its numbers.
            NumberAssignment.objects.filter(
                document=document, doc_number=document.doc_number, void__isnull=True
            )
            .order_by("-id")
            .first()
        )
        if assignment is None:  # a number without a ledger row: never written by us
            raise Conflict("not_numbered")
        number = document.doc_number
        NumberVoid.objects.create(
            assignment=assignment,
            document=document,
            doc_number=number,
            reason=reason,
            voided_by=actor,
        )
        document.doc_number = ""
        _bump(document, actor, ["doc_number"], ["doc_number"])
        record(
            "document.number_voided",
            actor=actor,
            obj=document,
            detail={"doc_number": number, "reason": reason, "version": document.version},
        )
    return document
