"""PAdES signing and verification (docs/seals.md#signing, #verification)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
from django.utils import timezone
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from api.common.errors import ApiError
from api.seals import actions, ca, signing
from api.seals.verification import verify_pdf
from tests.api.seals.conftest import make_pdf

pytestmark = pytest.mark.django_db

BOX = (1, 380.0, 120.0, 499.0, 239.0)


def sign(pdf: bytes, seal, box=BOX) -> bytes:
    return signing.apply_seal(pdf, seal, box=box, reason="测试用印", signer_name="柯拉")


def byte_range(signed: bytes) -> list[int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert match is not None
    return [int(v) for v in match.groups()]


def test_signed_pdf_verifies_intact_trusted_by_unit(org, office_seal, pdf):
    started = timezone.now().replace(microsecond=0)
    signed = sign(pdf, office_seal)
    assert signed.startswith(pdf) and len(signed) > len(pdf)  # incremental update
    assert b"/ETSI.CAdES.detached" in signed[len(pdf) :]
    result = verify_pdf(signed)
    assert result["signed"] and result["intact"] and result["certificate_trusted"]
    assert result["covers_whole_file"] and not result["revoked_at_signing_time"]
    assert result["signed_by_unit"] == {
        "id": org.office.pk,
        "code": org.office.code,
        "name": org.office.name,
        "short_name": org.office.short_name,
    }
    signed_at = dt.datetime.fromisoformat(result["signed_at"])
    assert started <= signed_at <= timezone.now()
    [embedded] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    certificates = embedded.signed_data["certificates"]
    assert len(certificates) == 2  # the unit's and the CA's
    assert embedded.sig_object["/Reason"] == "测试用印" and embedded.sig_object["/Name"] == "柯拉"
    [report] = result["signatures"]
    assert report["certificate_serial"] == office_seal.certificate.serial
    assert report["field"] == "GovDeskSeal1"


def test_the_visible_seal_is_drawn_in_the_box(office_seal, pdf, tmp_path):
    signed = sign(pdf, office_seal)
    reader = PdfFileReader(io.BytesIO(signed))
    [signature] = reader.embedded_signatures
    widget = signature.sig_field
    assert [float(v) for v in widget["/Rect"]] == [380.0, 120.0, 499.0, 239.0]
    assert widget["/P"].get_object() is reader.root["/Pages"]["/Kids"][1].get_object()
    if shutil.which("pdftoppm") is None:  # pragma: no cover - poppler-utils is in .ci/run
        pytest.skip("pdftoppm (poppler-utils) not installed")
    (tmp_path / "in.pdf").write_bytes(signed)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-f", "2", "-l", "2", "-png", "in.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    [png] = tmp_path.glob("page*.png")
    page = Image.open(png).convert("RGB")
    height = page.height
    # Inside the box the seal's red ring shows; outside it the page stays white.
    ring = [page.getpixel((x, height - 180)) for x in range(380, 400)]
    assert any(r > 180 and g < 80 and b < 80 for r, g, b in ring), ring
    assert page.getpixel((440, height - 138)) == (255, 255, 255)  # between star and ring
    assert page.getpixel((200, height - 180)) == (255, 255, 255)


def test_any_changed_byte_in_the_signed_range_is_not_intact(office_seal, pdf):
    signed = sign(pdf, office_seal)
    _, length1, start2, length2 = byte_range(signed)
    positions = [
        10,
        length1 // 3,
        length1 // 2,
        length1 - 5,
        start2 + 2,
        start2 + length2 // 2,
        start2 + length2 - 3,
    ]
    for position in positions:
        changed = bytearray(signed)
        changed[position] ^= 0x01
        result = verify_pdf(bytes(changed))
        assert result["intact"] is False, position


def test_second_seal_and_appended_bytes(org, office_seal, pdf):
    twice = sign(sign(pdf, office_seal), office_seal)
    result = verify_pdf(twice)
    assert len(result["signatures"]) == 2 and result["intact"]
    assert [r["field"] for r in result["signatures"]] == ["GovDeskSeal1", "GovDeskSeal2"]
    assert result["covers_whole_file"]
    appended = sign(pdf, office_seal) + b"\n% appended after signing\n"
    result = verify_pdf(appended)
    assert result["intact"] and not result["covers_whole_file"]


def test_certificate_from_another_ca_is_untrusted(org, office_seal, pdf, settings, tmp_path):
    home = settings.GOVDESK_SEAL_DIR
    settings.GOVDESK_SEAL_DIR = tmp_path / "rogue"
    ca.init_ca(common_name="Rogue CA")
    rogue = actions.issue_seal(org.bureau)
    signed = sign(pdf, rogue)
    settings.GOVDESK_SEAL_DIR = home
    result = verify_pdf(signed)
    assert result["signed"] and result["intact"]
    assert result["certificate_trusted"] is False and result["signed_by_unit"] is None


def test_revoked_before_signing_is_reported(org, office_seal, pdf):
    ca.revoke_unit_certificate(org.office, reason="key_compromise")
    office_seal.refresh_from_db()
    signed = sign(pdf, office_seal)  # below the action's refusal: a forger holding the key
    result = verify_pdf(signed)
    assert result["certificate_trusted"] and result["revoked_at_signing_time"] is True
    assert result["signatures"][0]["revoked_at"] is not None


def test_revoked_after_signing_is_not_revoked_at_signing_time(org, office_seal, pdf):
    signed = sign(pdf, office_seal)
    row = ca.revoke_unit_certificate(org.office, reason="superseded")
    # Times have one-second resolution (signing time, CRL); the same second counts as
    # revoked. Move the revocation a minute after the signature, CRL included.
    type(row).objects.filter(pk=row.pk).update(revoked_at=row.revoked_at + dt.timedelta(minutes=1))
    ca.write_crl()
    result = verify_pdf(signed)
    assert result["intact"] and result["revoked_at_signing_time"] is False
    assert result["signatures"][0]["revoked_at"] is not None


def test_the_crl_alone_marks_revocation(org, office_seal, pdf):
    """A revocation listed in the CA-signed CRL counts even if the row were lost."""
    ca.revoke_unit_certificate(org.office, reason="key_compromise")
    row = office_seal.certificate
    row.refresh_from_db()
    signed = sign(pdf, office_seal)
    type(row).objects.filter(pk=row.pk).update(revoked_at=None, revocation_reason="")
    assert verify_pdf(signed)["revoked_at_signing_time"] is True


def test_unsigned_unreadable_and_non_pdf(ca_ready):
    result = verify_pdf(make_pdf())
    assert result["signed"] is False and result["intact"] is False
    result = verify_pdf(b"%PDF-1.7\n garbage")
    assert result["intact"] is False and result["signatures"] == []
    with pytest.raises(ApiError) as info:
        verify_pdf(b"PK\x03\x04 not a pdf")
    assert (info.value.code, info.value.status_code) == ("not_a_pdf", 415)


def test_box_outside_the_page_is_refused(office_seal, pdf):
    for box in [(5, 0, 0, 10, 10), (0, 500, 100, 700, 200), (0, 100, 100, 50, 200)]:
        with pytest.raises(ApiError) as info:
            sign(pdf, office_seal, box=box)
        assert info.value.code == "seal_box_invalid"
