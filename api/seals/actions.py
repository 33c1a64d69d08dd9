"""Seal state changes: issue a unit's certificate and seal, replace its image, and
apply it to a document's PDF. Docs: docs/seals.md.

``seal_document_pdf`` is function-level for now: the workflow's seal step and the
storage of rendered documents call it later (docs/seals.md#signing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from api.accounts.actions.identity import _consume_totp
from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.models import AuditResult
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.documents.models import Document
from api.seals import ca, images, signing
from api.seals.models import Seal, SealCertificate, SealUse

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
        Unit.objects.select_for_update().get(pk=unit.pk)
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
    if not _consume_totp(actor, otp_code):
        raise _deny(actor, document, "otp_invalid", ApiError("otp_invalid", status_code=403))
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
            Seal.objects.select_for_update()
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
