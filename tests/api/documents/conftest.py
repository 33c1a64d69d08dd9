"""Fixtures for the documents tests (docs/documents.md)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.audit.models import AuditEvent
from tests.personas import client_for


@pytest.fixture(autouse=True)
def attachment_dir(settings, tmp_path):
    settings.GOVDESK_ATTACHMENT_DIR = tmp_path / "attachments"
    return settings.GOVDESK_ATTACHMENT_DIR


@pytest.fixture
def as_(personas):
    """``as_("bob")`` → an API client signed in as that persona (cached per test)."""
    clients: dict[str, object] = {}

    def get(name: str):
        if name not in clients:
            clients[name] = client_for(None if name == "anonymous" else personas[name])
        return clients[name]

    return get


DRAFT = {
    "direction": "outgoing",
    "title": "关于做好值班工作的通知",
    "doc_type": "notice",
    "body": [{"level": 1, "text": "一、总体要求"}, {"level": 0, "text": "各单位要高度重视。"}],
    "main_recipients": "各区人民政府",
}


@pytest.fixture
def draft(as_):
    """``draft("bob", title=...)`` → the created document's JSON (201 asserted)."""

    def make(persona: str = "bob", **overrides):
        response = as_(persona).post("/api/v1/documents/", {**DRAFT, **overrides}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return make


def events(action: str, result: str | None = None) -> list[AuditEvent]:
    queryset = AuditEvent.objects.filter(action=action)
    if result is not None:
        queryset = queryset.filter(result=result)
    return list(queryset.order_by("seq"))


def count_queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return len(ctx.captured_queries), result


def code(response) -> str:
    return response.json()["error"]["code"]


# --- sample files ---------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _image(fmt: str) -> bytes:
    """A real (tiny) image: uploads are opened to count their pixels."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
WEBP = _image("WEBP")
TEXT = "会议纪要\n一、参会人员\n".encode()
EXE = b"MZ\x90\x00\x03" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CT = b'<?xml version="1.0"?><Types></Types>'
DOCX = zip_bytes({"[Content_Types].xml": CT, "word/document.xml": b"<w:document/>"})
XLSX = zip_bytes({"[Content_Types].xml": CT, "xl/workbook.xml": b"<workbook/>"})
PPTX = zip_bytes({"[Content_Types].xml": CT, "ppt/presentation.xml": b"<p/>"})
DOCM = zip_bytes(
    {
        "[Content_Types].xml": b'<Types><Default ContentType="application/'
        b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
        "word/document.xml": b"<w:document/>",
    }
)
VBA = zip_bytes(
    {"[Content_Types].xml": CT, "word/document.xml": b"<w:document/>", "word/vbaProject.bin": b"\0"}
)
OFD = zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
PLAIN_ZIP = zip_bytes({"readme.txt": b"hello"})
