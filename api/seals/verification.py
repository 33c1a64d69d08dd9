"""Verifying a sealed PDF. Docs: docs/seals.md#verification.

pyHanko validates each embedded signature against the deployment CA as the only
trust root (no system roots, no network fetching). Revocation is decided from the
deployment's own records: the CA-signed CRL (ca/crl.pem) and the SealCertificate
rows it is built from. A certificate counts as revoked at signing time when its
revocation time is at or before the signing time the signature reports.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any, TypedDict

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from api.common.datetimes import client_datetime
from api.common.errors import ApiError
from api.seals import ca
from api.seals.models import SealCertificate

logger = logging.getLogger(__name__)


class UnitRef(TypedDict):
    id: int
    code: str
    name: str
    short_name: str


class SignatureReport(TypedDict):
    field: str
    intact: bool
    signed_by_unit: UnitRef | None
    signer_subject: str
    signed_at: str | None
    certificate_trusted: bool
    certificate_serial: str
    revoked_at_signing_time: bool
    revoked_at: str | None
    covers_whole_file: bool


def _empty(field: str = "") -> SignatureReport:
    return {
        "field": field,
        "intact": False,
        "signed_by_unit": None,
        "signer_subject": "",
        "signed_at": None,
        "certificate_trusted": False,
        "certificate_serial": "",
        "revoked_at_signing_time": False,
        "revoked_at": None,
        "covers_whole_file": False,
    }


def _revocation_time(
    serial: int, row: SealCertificate | None, crl: x509.CertificateRevocationList | None
) -> dt.datetime | None:
    times = []
    if row is not None and row.revoked_at is not None:
        times.append(row.revoked_at)
    if crl is not None:
        entry = crl.get_revoked_certificate_by_serial_number(serial)
        if entry is not None:
            times.append(entry.revocation_date_utc)
    return min(times) if times else None


def _report(
    field: str, status: PdfSignatureStatus, crl: x509.CertificateRevocationList | None
) -> SignatureReport:
    report = _empty(field)
    cert = status.signing_cert
    serial = int(cert.serial_number)
    report["certificate_serial"] = format(serial, "x")
    report["signer_subject"] = cert.subject.human_friendly
    report["intact"] = bool(status.intact and status.valid)
    report["certificate_trusted"] = bool(status.trusted)
    report["covers_whole_file"] = status.coverage is not None and status.coverage.name == (
        "ENTIRE_FILE"
    )
    signed_at = status.signer_reported_dt
    report["signed_at"] = client_datetime(signed_at)
    row = None
    if status.trusted:
        row = (
            SealCertificate.objects.select_related("unit")
            .filter(serial=report["certificate_serial"])
            .first()
        )
        if row is not None:
            unit = row.unit
            report["signed_by_unit"] = {
                "id": unit.pk,
                "code": unit.code,
                "name": unit.name,
                "short_name": unit.short_name,
            }
    revoked = _revocation_time(serial, row, crl) if status.trusted else None
    if revoked is not None:
        report["revoked_at"] = client_datetime(revoked)
        # No signing time is treated as "signed now": a revoked certificate fails.
        report["revoked_at_signing_time"] = signed_at is None or revoked <= signed_at
    return report


def verify_pdf(pdf_bytes: bytes) -> dict[str, Any]:
    """Validate every signature of ``pdf_bytes``. The top-level fields describe the
    last signature (the most recent seal) and ``signatures`` lists them all in file
    order; ``intact`` is true only when every signature is. ``not_a_pdf`` (415) when
    the bytes do not start a PDF file."""
    if not pdf_bytes.startswith(b"%PDF-"):
        raise ApiError("not_a_pdf", status_code=415)
    ca_cert = ca.load_ca_certificate()
    root = asn1_x509.Certificate.load(ca_cert.public_bytes(serialization.Encoding.DER))
    crl = ca.load_crl()
    reports: list[SignatureReport] = []
    readable = True
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        logger.info("seal verification: unreadable PDF (%s)", type(exc).__name__)
        readable, signatures = False, []
    for signature in signatures:
        context = ValidationContext(
            trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail"
        )
        try:
            status = validate_pdf_signature(signature, context)
        except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
            logger.info("seal verification: signature unreadable (%s)", type(exc).__name__)
            reports.append(_empty(signature.field_name))
            continue
        reports.append(_report(signature.field_name, status, crl))
    last = reports[-1] if reports else _empty()
    return {
        "signed": bool(reports),
        "readable": readable,
        "intact": bool(reports) and all(r["intact"] for r in reports),
        "signed_by_unit": last["signed_by_unit"],
        "signed_at": last["signed_at"],
        "certificate_trusted": last["certificate_trusted"],
        "revoked_at_signing_time": last["revoked_at_signing_time"],
        "covers_whole_file": last["covers_whole_file"],
        "signatures": reports,
    }
