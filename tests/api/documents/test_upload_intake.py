"""Red-team uploads: checked by what they become (docs/security.md#uploads).

A 1 MB .docx inflating to 1 GB, a 20000×20000 PNG, a PDF with /OpenAction
JavaScript (also hidden behind #xx escapes or inside a compressed object stream), a
%PDF + HTML polyglot: each is a clear 4xx and nothing is stored.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

import pytest

from api.documents import intake
from api.documents.models import Attachment, Document
from tests.api.documents import conftest as samples
from tests.api.documents.conftest import code
from tests.api.documents.test_attachments import upload

pytestmark = pytest.mark.django_db


@functools.cache
def docx_bomb(inflated: int = 1 << 30) -> bytes:
    """A real DOCX whose document.xml inflates to ``inflated`` bytes (1 GiB ≈ 1 MB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", samples.CT)
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as part:
            block = b"\x20" * (1 << 20)
            for _ in range(inflated >> 20):
                part.write(block)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG announcing ``width``×``height`` pixels with a tiny (invalid) body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def pdf(body: bytes) -> bytes:
    return b"%PDF-1.4\n" + body + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


JS_PDF = pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj")
ESCAPED_JS_PDF = pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/J#61vaScript/J#53(x)>>>>endobj")
HIDDEN = zlib.compress(b"<</S/Launch/F(cmd.exe)>>")
OBJSTM_PDF = pdf(
    b"1 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length %d>>stream\n" % len(HIDDEN)
    + HIDDEN
    + b"\nendstream endobj"
)
EMBEDDED_PDF = pdf(b"1 0 obj<</Type/Catalog/Names<</EmbeddedFiles 2 0 R>>>>endobj")
POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n" + (
    b"1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
)
AFTER_EOF = samples.PDF + b"PK\x03\x04" + b"x" * 64
OPEN_TO_PAGE = pdf(b"1 0 obj<</Type/Catalog/OpenAction[3 0 R/Fit]>>endobj")


def _refused(response, status: int, error: str, doc_id: int) -> dict:
    assert response.status_code == status, response.content
    assert code(response) == error
    assert Attachment.objects.count() == 0
    assert Document.objects.get(pk=doc_id).version == 1
    return response.json()["error"]


def test_docx_bomb_is_refused_and_nothing_stored(as_, draft, attachment_dir):
    data = docx_bomb()
    assert len(data) < 2 * 1_048_576  # ~1 MB on the wire
    doc = draft("bob")
    error = _refused(
        upload(as_("bob"), doc["id"], "报告.docx", data), 422, "upload_bomb", doc["id"]
    )
    assert error["reason"] == "inflated_size"
    assert not [p for p in attachment_dir.rglob("*") if p.is_file()]


def test_a_docx_whose_headers_lie_is_still_caught(settings):
    """Declared sizes say small; inflating really is what decides."""
    settings.GOVDESK_UPLOAD_ZIP_MAX_INFLATED = 1_048_576
    data = bytearray(docx_bomb(inflated=4 << 20))
    # Rewrite every declared uncompressed size (local and central headers) to 1 KB.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + offset : start + offset + 4] != b"\xff\xff\xff\xff":
                data[start + offset : start + offset + 4] = struct.pack("<I", 1024)
            start += 4
    with pytest.raises(Exception) as refused:
        intake.check_zip(io.BytesIO(bytes(data)), len(data))
    assert getattr(refused.value, "code", None) in ("upload_bomb", "attachment_type_refused")


def test_too_many_entries(settings):
    settings.GOVDESK_UPLOAD_ZIP_MAX_ENTRIES = 20
    entries = {"[Content_Types].xml": samples.CT}
    entries.update({f"word/p{i}.xml": b"<p/>" for i in range(30)})
    data = samples.zip_bytes(entries)
    with pytest.raises(Exception) as refused:
        intake.check_zip(io.BytesIO(data), len(data))
    assert refused.value.extra["reason"] == "entries"


def test_pixel_bomb_is_refused(as_, draft):
    doc = draft("bob")
    data = png_header_only(20_000, 20_000)
    error = _refused(upload(as_("bob"), doc["id"], "scan.png", data), 422, "upload_bomb", doc["id"])
    assert error["reason"] == "pixels"


@pytest.mark.parametrize(
    ("name", "data", "feature"),
    [
        ("js.pdf", JS_PDF, "JavaScript"),
        ("escaped.pdf", ESCAPED_JS_PDF, "JavaScript"),
        ("objstm.pdf", OBJSTM_PDF, "Launch"),
        ("embedded.pdf", EMBEDDED_PDF, "EmbeddedFiles"),
    ],
)
def test_pdf_with_active_content_is_refused(as_, draft, name, data, feature):
    doc = draft("bob")
    response = upload(as_("bob"), doc["id"], name, data)
    error = _refused(response, 422, "upload_active_content", doc["id"])
    assert error["feature"] == feature


@pytest.mark.parametrize("data", [POLYGLOT, AFTER_EOF], ids=["html", "zip_after_eof"])
def test_polyglots_are_refused(as_, draft, data):
    doc = draft("bob")
    _refused(upload(as_("bob"), doc["id"], "a.pdf", data), 422, "upload_polyglot", doc["id"])


def test_an_image_that_is_also_html_is_refused(as_, draft):
    doc = draft("bob")
    data = samples.PNG + b"<html><script>alert(1)</script>"
    _refused(upload(as_("bob"), doc["id"], "a.png", data), 422, "upload_polyglot", doc["id"])


def test_plain_pdfs_and_an_open_to_page_action_pass(as_, draft, attachment_dir):
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "plain report")
    page.save()
    doc = draft("bob")
    for name, data in (("report.pdf", out.getvalue()), ("open.pdf", OPEN_TO_PAGE)):
        response = upload(as_("bob"), doc["id"], name, data)
        assert response.status_code == 201, response.content
