"""seal_document_pdf: custodian + TOTP step-up, SealUse and audit (docs/seals.md#signing)."""

from __future__ import annotations

import hashlib
import logging

import pytest
from cryptography.hazmat.primitives import serialization

from api.audit.models import AuditEvent
from api.common.errors import ApiError
from api.seals import ca
from api.seals.actions import custodians, seal_document_pdf
from api.seals.models import SealUse
from api.seals.verification import verify_pdf
from tests.api.seals.conftest import code_for

pytestmark = pytest.mark.django_db


def refused(pdf, document, user, code, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as info:
        seal_document_pdf(pdf, document.pk, user, code, **kwargs)
    return info.value


def test_custodian_seals_with_totp_and_the_use_is_recorded(
    org, office_seal, cora, document, pdf, caplog
):
    caplog.set_level(logging.DEBUG)
    assert custodians(office_seal) == [cora]
    result = seal_document_pdf(pdf, document.pk, cora, code_for(cora), reason="印发")
    signed = result.signed_pdf
    assert signed.startswith(pdf)
    use = SealUse.objects.get()
    assert use == result.use
    assert (use.seal, use.document, use.user) == (office_seal, document, cora)
    assert use.document_sha256_before == hashlib.sha256(pdf).hexdigest()
    assert use.signed_sha256 == hashlib.sha256(signed).hexdigest()
    assert use.certificate_serial == office_seal.certificate.serial and use.reason == "印发"
    event = AuditEvent.objects.get(action="seal.applied")
    assert event.actor_id == cora.pk and event.object_id == str(document.pk)
    assert event.detail["document_sha256_before"] == use.document_sha256_before
    assert event.detail["signed_sha256"] == use.signed_sha256
    report = verify_pdf(signed)
    assert report["intact"] and report["certificate_trusted"]
    assert report["signed_by_unit"]["name"] == org.office.name
    # Placed by default on the last page.
    assert report["signatures"][0]["field"] == "GovDeskSeal1"
    # The unit key was decrypted to sign, but appears in no log line and no audit detail.
    key_der = ca.load_unit_private_key(office_seal.certificate).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for text in (caplog.text, str(event.detail)):
        assert "PRIVATE KEY" not in text and key_der.hex()[:32] not in text


def test_non_custodian_is_refused_and_audited(office_seal, personas, document, pdf):
    alice = personas["alice"]  # the office's unit admin is not its seal custodian
    error = refused(pdf, document, alice, "000000")
    assert (error.code, error.status_code) == ("not_seal_custodian", 403)
    event = AuditEvent.objects.get(action="seal.denied")
    assert event.result == "denied" and event.actor_id == alice.pk
    assert event.detail["reason"] == "not_custodian"
    assert not SealUse.objects.exists()


def test_custodian_of_another_unit_is_refused(org, office_seal, document, pdf):
    from api.accounts.models import Role
    from tests.personas import make_user

    other = make_user("otto", org.bureau, Role.SEAL_CUSTODIAN)
    assert refused(pdf, document, other, "000000").code == "not_seal_custodian"


def test_wrong_replayed_or_missing_totp(office_seal, cora, document, pdf):
    error = refused(pdf, document, cora, "12345x")
    assert (error.code, error.status_code) == ("otp_invalid", 403)
    code = code_for(cora)
    seal_document_pdf(pdf, document.pk, cora, code)
    assert refused(pdf, document, cora, code).code == "otp_invalid"  # replay
    assert AuditEvent.objects.filter(action="seal.denied", result="denied").count() == 2
    cora.totp_secret, cora.totp_confirmed_at = "", None
    cora.save(update_fields=["totp_secret", "totp_confirmed_at"])
    assert refused(pdf, document, cora, "123456").code == ("mfa_setup_required")
    assert SealUse.objects.count() == 1


def test_unnumbered_document_is_refused(office_seal, cora, document, pdf):
    document.doc_number = ""
    document.save(update_fields=["doc_number"])
    error = refused(pdf, document, cora, code_for(cora))
    assert (error.code, error.status_code) == ("document_not_signed_off", 409)


def test_revoked_certificate_is_refused_and_nothing_is_written(
    org, office_seal, cora, document, pdf
):
    ca.revoke_unit_certificate(org.office, reason="key_compromise")
    error = refused(pdf, document, cora, code_for(cora))
    assert (error.code, error.status_code) == ("seal_certificate_revoked", 409)
    assert not SealUse.objects.exists()
    event = AuditEvent.objects.get(action="seal.apply_failed")
    assert event.result == "failed" and event.detail["code"] == "seal_certificate_revoked"


def test_no_seal_and_missing_document(org, ca_ready, cora, document, pdf):
    assert refused(pdf, document, cora, code_for(cora)).code == "seal_not_configured"
    with pytest.raises(ApiError) as info:
        seal_document_pdf(pdf, 999_999, cora, code_for(cora, 1))
    assert info.value.status_code == 404


def test_not_a_pdf_writes_nothing(office_seal, cora, document):
    error = refused(b"GIF89a", document, cora, code_for(cora))
    assert (error.code, error.status_code) == ("not_a_pdf", 415)
    assert not SealUse.objects.exists()
    assert not AuditEvent.objects.filter(action="seal.applied").exists()
    assert AuditEvent.objects.get(action="seal.apply_failed").detail["code"] == "not_a_pdf"
