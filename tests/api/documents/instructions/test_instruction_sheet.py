"""The instruction sheet (批示单): text extractable, and appending it never alters the
original (signed) PDF bytes. Docs: docs/instructions.md#the-instruction-sheet."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from api.documents.instruction_sheet import append_instruction_sheet, build_instruction_sheet
from api.documents.models import Document
from api.documents.rendering import fonts
from tests.api.documents.instructions.conftest import STROKES

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing"),
]


@pytest.fixture(autouse=True)
def _fonts():
    missing = [message for _, message in fonts.problems()]
    if missing:
        pytest.skip("fonts missing (.ci/run installs them): " + "; ".join(missing))


def pdftotext(pdf: bytes, tmp_path) -> str:
    source = tmp_path / "sheet.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout.decode("utf-8")


def test_sheet_lists_author_title_opinion_and_date(as_, draft, personas, tmp_path):
    leo = personas["leo"]
    leo.display_name, leo.title = "李建国", "副市长"
    leo.save(update_fields=["display_name", "title"])
    document = draft("bob")
    opinion = "同意，请办公室抓紧落实。"
    response = as_("leo").post(
        f"/api/v1/documents/{document['id']}/instructions/",
        {**STROKES, "opinion": opinion},
        format="json",
    )
    assert response.status_code == 201
    sheet = as_("bob").get(f"/api/v1/documents/{document['id']}/instruction-sheet/")
    assert sheet.status_code == 200
    assert sheet["Content-Type"] == "application/pdf"
    assert sheet["X-Content-Type-Options"] == "nosniff"
    text = pdftotext(sheet.content, tmp_path)
    compact = "".join(text.split())
    assert "批示单" in compact and "领导批示" in compact
    assert "李建国（副市长）" in compact
    assert "同意，请办公室抓紧落实。" in compact
    assert "关于做好值班工作的通知" in compact
    assert "批示时间：" in compact and "年" in compact and ":" in compact
    reader = PdfReader(io.BytesIO(sheet.content))
    assert any("/XObject" in page["/Resources"] for page in reader.pages)  # the handwriting


def _plain_pdf(pages: int = 2) -> bytes:
    out = io.BytesIO()
    drawing = canvas.Canvas(out, invariant=1)
    for number in range(pages):
        drawing.drawString(100, 700, f"signed body page {number + 1}")
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def test_append_keeps_the_original_bytes_and_adds_the_sheet_pages(as_, draft):
    document = draft("bob")
    as_("leo").post(f"/api/v1/documents/{document['id']}/instructions/", STROKES, format="json")
    original = _plain_pdf(2)
    sheet = build_instruction_sheet(Document.objects.get(pk=document["id"]))
    combined = append_instruction_sheet(original, sheet)
    assert combined[: len(original)] == original  # the signed body is untouched
    assert len(combined) > len(original)
    sheet_pages = len(PdfReader(io.BytesIO(sheet)).pages)
    assert len(PdfReader(io.BytesIO(combined)).pages) == 2 + sheet_pages
    assert len(PdfReader(io.BytesIO(original)).pages) == 2


def test_append_to_a_sealed_pdf_keeps_the_signature_intact(as_, draft):
    """A PAdES-signed PDF: the signed byte range hashes the same after appending."""
    pyhanko = pytest.importorskip("pyhanko.sign")
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from tests.api.documents.instructions.signing import self_signed_signer

    signer = self_signed_signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(_plain_pdf(1)))
    out = io.BytesIO()
    pyhanko.signers.sign_pdf(
        writer, pyhanko.signers.PdfSignatureMetadata(field_name="Seal"), signer=signer, output=out
    )
    signed = out.getvalue()
    document = draft("bob")
    as_("leo").post(f"/api/v1/documents/{document['id']}/instructions/", STROKES, format="json")
    combined = append_instruction_sheet(
        signed, build_instruction_sheet(Document.objects.get(pk=document["id"]))
    )
    assert combined.startswith(signed)
    reader = PdfFileReader(io.BytesIO(combined))
    status = validate_pdf_signature(
        reader.embedded_signatures[0],
        ValidationContext(trust_roots=[signer.signing_cert], allow_fetching=False),
    )
    assert status.intact and status.valid
    # The signature covers its whole revision; the added pages are a later revision,
    # which a validator reports as a modification after signing (docs/instructions.md).
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level == ModificationLevel.OTHER
