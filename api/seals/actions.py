"""Seal state changes: issue a unit's certificate and seal, replace its image, and
apply it to a document's PDF. Docs: docs/seals.md.

``seal_document_pdf`` seals given bytes (function level); ``seal_task`` is the
workflow's seal step: it seals the stored rendering and closes the task in one
transaction (docs/seals.md#the-seal-step).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from api.accounts.actions.identity import (
    _consume_totp,
    count_step_up_failure,
    refuse_step_up_if_locked,
)
from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.models import AuditResult
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.documents.models import Document, RenderedPdf
from api.documents.rendering.actions import pdf_path
from api.seals import ca, images, signing
from api.seals.models import Seal, SealCertificate, SealUse
from api.workflow.models import StepKind, Task, TaskState, WorkflowInstance

MM = 72 / 25.4


def _store_image(png: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(png).hexdigest()
    relative = Path("images") / f"{digest}.png"
    target = ca.seal_dir() / relative
    if not target.exists():
        ca.write_private(target, png, exclusive=False)
    return str(relative), digest


def issue_seal(
    unit: Unit,
    *,
    image: bytes | None = None,
    image_name: str | None = None,
    days: int = ca.UNIT_CERT_DAYS,
) -> Seal:
    """Issue the unit's signing certificate and bind it to the unit's seal: the active
    seal keeps its image (unless ``image`` is given), otherwise a new seal is made from
    ``image`` (a scan, api/seals/images.py) or the generated default seal."""
    png = images.process_scan(image, image_name) if image is not None else None
    with transaction.atomic():
        Unit.objects.select_for_update(no_key=True).get(pk=unit.pk)
        certificate = ca.issue_unit_certificate(unit, days=days)
        seal = Seal.objects.select_for_update().filter(unit=unit, is_active=True).first()
        if png is None and seal is None:
            png = images.default_seal(unit.name)
        if seal is None:
            assert png is not None
            path, digest = _store_image(png)
            seal = Seal.objects.create(
                unit=unit, image=path, image_sha256=digest, certificate=certificate
            )
        else:
            seal.certificate = certificate
            if png is not None:
                seal.image, seal.image_sha256 = _store_image(png)
            seal.save(update_fields=["certificate", "image", "image_sha256"])
        record(
            "seal.certificate_issued",
            actor_username=ca.COMMAND_ACTOR,
            obj=certificate,
            detail={
                "serial": certificate.serial,
                "subject": certificate.subject,
                "not_after": certificate.not_after,
                "seal_id": seal.pk,
                "image_sha256": seal.image_sha256,
            },
        )
    return seal


def is_custodian(user: User, unit: Unit) -> bool:
    return RoleAssignment.objects.filter(
        user=user, unit=unit, role=Role.SEAL_CUSTODIAN, user__is_active=True
    ).exists()


def custodians(seal: Seal) -> list[User]:
    """The seal's custodians: users holding ``seal_custodian`` of the seal's unit."""
    return list(
        User.objects.filter(
            role_assignments__unit=seal.unit_id,
            role_assignments__role=Role.SEAL_CUSTODIAN,
            is_active=True,
        ).order_by("pk")
    )


def default_box(pdf_bytes: bytes) -> signing.Box:
    """The last page, right of the text block, 42 mm square, its centre 60 mm above the
    bottom edge: where GB/T 9704 puts the seal over the issuing body and date when the
    renderer gives no position."""
    _, y1, x2, _ = signing.page_box(pdf_bytes, -1)
    size = images.SEAL_MM * MM
    right = x2 - 26 * MM - 16 * MM  # right margin, then about four characters in
    centre_y = y1 + 60 * MM
    return (-1, right - size, centre_y - size / 2, right, centre_y + size / 2)


@dataclass(frozen=True)
class SealResult:
    signed_pdf: bytes
    use: SealUse


def _deny(actor: User, document: Document, reason: str, error: ApiError) -> ApiError:
    record_denied(
        "seal.denied", actor=actor, obj=document, detail={"reason": reason, "code": error.code}
    )
    return error


def seal_document_pdf(
    pdf_bytes: bytes,
    document_id: int,
    actor: User,
    otp_code: str,
    *,
    box: signing.Box | None = None,
    reason: str = "",
) -> SealResult:
    """Seal a document's rendered PDF with its unit's seal.

    Checks, in order: the document exists and is numbered (signed off); the actor is
    a seal custodian of the document's unit (else 403 ``not_seal_custodian``, audited);
    a fresh TOTP code of the actor (step-up; replay-protected by the identity
    module's counter); the unit has an active seal whose certificate is not revoked.
    Records a SealUse and the audit event ``seal.applied`` with both hashes."""
    document = Document.objects.select_related("unit").filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    if not is_custodian(actor, document.unit):
        raise _deny(actor, document, "not_custodian", Forbidden("not_seal_custodian"))
    if not document.doc_number:
        raise _deny(actor, document, "not_signed_off", Conflict("document_not_signed_off"))
    if not actor.has_totp:
        raise _deny(
            actor, document, "no_second_factor", ApiError("mfa_setup_required", status_code=403)
        )
    refuse_step_up_if_locked(actor, STEP_UP_ACTION)
    if not _consume_totp(actor, otp_code):
        error = _deny(actor, document, "otp_invalid", ApiError("otp_invalid", status_code=403))
        count_step_up_failure(actor, action=STEP_UP_ACTION, reason="otp_invalid", error=error)
    before = hashlib.sha256(pdf_bytes).hexdigest()
    try:
        return _seal_locked(pdf_bytes, document, actor, box=box, reason=reason, before=before)
    except ApiError as problem:
        # The transaction rolled back: no SealUse, no seal.applied; record the failure.
        record(
            "seal.apply_failed",
            actor=actor,
            obj=document,
            result=AuditResult.FAILED,
            detail={"code": problem.code, "document_sha256_before": before},
        )
        raise


def _seal_locked(
    pdf_bytes: bytes,
    document: Document,
    actor: User,
    *,
    box: signing.Box | None,
    reason: str,
    before: str,
) -> SealResult:
    with transaction.atomic():
        seal = (
            Seal.objects.select_for_update(of=("self",))
            .select_related("certificate", "unit")
            .filter(unit=document.unit, is_active=True)
            .first()
        )
        if seal is None:
            raise Conflict("seal_not_configured")
        certificate = SealCertificate.objects.select_for_update().get(pk=seal.certificate_id)
        if certificate.is_revoked:
            raise Conflict("seal_certificate_revoked")
        if certificate.not_after <= timezone.now():
            raise Conflict("seal_certificate_expired")
        signed = signing.apply_seal(
            pdf_bytes,
            seal,
            box=box or default_box(pdf_bytes),
            reason=reason or f"{document.doc_number} 用印",
            signer_name=actor.display_name,
        )
        after = hashlib.sha256(signed).hexdigest()
        use = SealUse.objects.create(
            seal=seal,
            document=document,
            user=actor,
            document_sha256_before=before,
            signed_sha256=after,
            reason=reason[:200],
            certificate_serial=certificate.serial,
        )
        record(
            "seal.applied",
            actor=actor,
            obj=document,
            detail={
                "seal_id": seal.pk,
                "seal_use_id": use.pk,
                "certificate_serial": use.certificate_serial,
                "document_sha256_before": before,
                "signed_sha256": after,
            },
        )
    return SealResult(signed, use)


# --- The seal step of the workflow (用印) ----------------------------------------------


def _latest_unsealed(document: Document) -> RenderedPdf | None:
    for rendering in RenderedPdf.objects.filter(document=document).order_by("-version"):
        if not rendering.meta.get("sealed"):
            return rendering if rendering.document_version == document.version else None
    return None


def _render_first(task_id: int, actor: User) -> None:
    """Render synchronously (outside any transaction) when the actor is about to seal a
    numbered document that has no rendering of its current version yet (the Celery
    render task has not run). Anything unusual is left to the checks in the transaction."""
    from api.documents.rendering.actions import store_rendering

    task = Task.objects.select_related("instance__document__unit").filter(pk=task_id).first()
    if task is None or task.assignee_id != actor.pk or task.step_kind != StepKind.SEAL:
        return
    document = task.instance.document
    if task.state != TaskState.OPEN or not document.doc_number:
        return
    if not is_custodian(actor, document.unit) or _latest_unsealed(document) is not None:
        return
    store_rendering(document.pk)


def seal_task(task_id: int, actor: User, otp_code: str) -> tuple[Task, RenderedPdf]:
    """The seal step: the custodian seals the document's latest rendering with a fresh
    TOTP code and the task closes with "已用印" — one transaction (the workflow's
    ``seal_step``) holding the SealUse, ``seal.applied``, the sealed RenderedPdf row
    and the closed task, or none of them. Docs: docs/seals.md#the-seal-step.

    Refusals: 404 (not the actor's task); 422 ``not_seal_step``; 409 ``task_not_open``;
    403 ``not_seal_custodian`` and 403 ``mfa_setup_required`` (audited ``seal.denied``);
    409 ``not_numbered``; 400 ``otp_required`` / ``otp_invalid`` (audited); 409
    ``not_rendered``; 409 ``seal_not_configured`` / ``seal_certificate_revoked`` /
    ``seal_certificate_expired`` (audited ``seal.apply_failed``)."""
    from api.workflow import actions as workflow

    _render_first(task_id, actor)
    refuse_step_up_if_locked(actor, STEP_UP_ACTION)  # 429 before anything is looked at
    stored: list[RenderedPdf] = []
    sealed_document: list[Document] = []

    def apply(task: Task, instance: WorkflowInstance) -> dict[str, object]:
        document = (
            Document.objects.select_for_update(of=("self",), no_key=True)
            .select_related("unit")
            .get(pk=instance.document_id)
        )
        sealed_document.append(document)
        if not is_custodian(actor, document.unit):
            raise Forbidden("not_seal_custodian")
        if not document.doc_number:
            raise Conflict("not_numbered")
        if not actor.has_totp:
            raise ApiError("mfa_setup_required", status_code=403)
        if not otp_code:
            raise ApiError("otp_required", status_code=400)
        if not _consume_totp(actor, otp_code):
            raise ApiError("otp_invalid", status_code=400)
        rendering = _latest_unsealed(document)
        if rendering is None:
            raise Conflict("not_rendered")
        pdf = pdf_path(rendering).read_bytes()
        before = hashlib.sha256(pdf).hexdigest()
        if before != rendering.sha256:
            raise Conflict("not_rendered")  # the stored file is not what was rendered
        box = _box_of(rendering)
        result = _seal_locked(pdf, document, actor, box=box, reason="", before=before)
        sealed = _store_sealed(document, rendering, result)
        stored.append(sealed)
        return {"sealed_rendering": sealed.version, "seal_use_id": result.use.pk}

    try:
        task = workflow.seal_step(task_id, actor, apply)
    except ApiError as problem:
        if sealed_document and problem.code in _DENIALS:
            record_denied(
                "seal.denied",
                actor=actor,
                obj=sealed_document[0],
                detail={"reason": problem.code, "code": problem.code, "task_id": task_id},
            )
            if problem.code == "otp_invalid":
                # A wrong seal code counts like a wrong password: 5 and this address
                # is locked out (docs/seals.md#the-seal-step, docs/identity.md#lockout).
                count_step_up_failure(
                    actor, action=STEP_UP_ACTION, reason="otp_invalid", error=problem
                )
        elif sealed_document and problem.code in _APPLY_FAILURES:
            record(
                "seal.apply_failed",
                actor=actor,
                obj=sealed_document[0],
                result=AuditResult.FAILED,
                detail={"code": problem.code, "task_id": task_id},
            )
        raise
    return task, stored[0]


STEP_UP_ACTION = "auth.step_up_failed"
_DENIALS = frozenset({"not_seal_custodian", "mfa_setup_required", "otp_required", "otp_invalid"})
_APPLY_FAILURES = frozenset(
    {"seal_not_configured", "seal_certificate_revoked", "seal_certificate_expired"}
)


def _box_of(rendering: RenderedPdf) -> signing.Box | None:
    """The renderer's seal box (meta["seal"] = {"page", "box": [x0, y0, x1, y1]})."""
    seal = rendering.meta.get("seal")
    if not seal:
        return None
    x0, y0, x1, y1 = (float(v) for v in seal["box"])
    return (int(seal["page"]), x0, y0, x1, y1)


def _store_sealed(document: Document, source: RenderedPdf, result: SealResult) -> RenderedPdf:
    """Keep the signed PDF as the document's next rendering version; the file is
    content-addressed (a rolled-back transaction leaves at most an unreferenced file)."""
    from api.documents.rendering.actions import _write_once

    digest = result.use.signed_sha256
    relative = f"{document.pk}/{digest}.pdf"
    _write_once(relative, result.signed_pdf)
    latest = RenderedPdf.objects.filter(document=document).order_by("-version").first()
    return RenderedPdf.objects.create(
        document=document,
        version=(latest.version + 1) if latest else 1,
        document_version=source.document_version,
        sha256=digest,
        path=relative,
        size=len(result.signed_pdf),
        meta={
            **source.meta,
            "kind": "sealed",
            "sealed": True,
            "sealed_from": source.version,
            "seal_use_id": result.use.pk,
            "certificate_serial": result.use.certificate_serial,
        },
    )
