"""Attachments: content-detected types, size limits, storage outside the web root,
download headers, removal (docs/documents.md#attachments)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.common.middleware import body_limit_for
from api.documents import actions
from api.documents.models import Attachment, Document
from tests.api.documents import conftest as samples
from tests.api.documents.conftest import code, events

pytestmark = pytest.mark.django_db


def upload(
    client, doc_id: int, name: str, data: bytes, content_type="application/octet-stream", **extra
):
    return client.post(
        f"/api/v1/documents/{doc_id}/attachments/",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
        **extra,
    )


@pytest.mark.parametrize(
    ("name", "data", "kind", "content_type"),
    [
        ("方案.pdf", samples.PDF, "pdf", "application/pdf"),
        ("公文.ofd", samples.OFD, "ofd", "application/ofd"),
        (
            "a.docx",
            samples.DOCX,
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "a.xlsx",
            samples.XLSX,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "a.pptx",
            samples.PPTX,
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("图.PNG", samples.PNG, "png", "image/png"),
        ("photo.jpg", samples.JPEG, "jpeg", "image/jpeg"),
        ("photo.jpeg", samples.JPEG, "jpeg", "image/jpeg"),
        ("p.webp", samples.WEBP, "webp", "image/webp"),
        ("纪要.txt", samples.TEXT, "text", "text/plain; charset=utf-8"),
        (
            "旧纪要.txt",
            "会议纪要\r\n一、参会人员\r\n".encode("gb18030"),
            "text",
            "text/plain; charset=gb18030",
        ),
    ],
)
def test_accepted_types_are_detected_from_content(
    as_, draft, attachment_dir, name, data, kind, content_type
):
    doc = draft("bob")
    # The client's Content-Type is ignored: everything is sent as text/html here.
    response = upload(as_("bob"), doc["id"], name, data, content_type="text/html")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == kind and body["content_type"] == content_type
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    attachment = Attachment.objects.get(pk=body["id"])
    stored = list(attachment_dir.rglob(attachment.storage_key))
    assert len(stored) == 1 and stored[0].read_bytes() == data
    assert name not in str(stored[0])  # random name, not the client's
    detail = as_("bob").get(f"/api/v1/documents/{doc['id']}/").json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    assert detail["version"] == 2
    (event,) = events("document.attachment_added")
    assert event.detail["sha256"] == body["sha256"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", samples.EXE),
        ("setup.pdf", samples.EXE),  # executable renamed
        ("page.html", samples.HTML),
        ("page.txt", samples.HTML),  # HTML pretending to be text
        ("logo.svg", samples.SVG),
        ("logo.png", samples.SVG),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n"),
        ("macro.docx", samples.DOCM),
        ("macro2.docx", samples.VBA),
        ("archive.zip", samples.PLAIN_ZIP),
        ("archive.docx", samples.PLAIN_ZIP),
        ("方案.docx", samples.PDF),  # extension and content disagree
        ("方案.pdf", samples.DOCX),
        ("公文.pdf", samples.OFD),
        ("scan.png", samples.JPEG),
        ("noextension", samples.PDF),
        ("broken.docx", b"PK\x03\x04garbage"),
        ("binary.txt", b"\x00\x01\x02binary"),
    ],
)
def test_refused_types(as_, draft, name, data):
    doc = draft("bob")
    response = upload(as_("bob"), doc["id"], name, data, content_type="application/pdf")
    assert response.status_code == 415, response.content
    assert code(response) == "attachment_type_refused"
    assert Attachment.objects.count() == 0
    assert Document.objects.get(pk=doc["id"]).version == 1


def test_size_limit_is_413(as_, draft, settings):
    settings.GOVDESK_ATTACHMENT_MAX_BYTES = 2048
    doc = draft("bob")
    response = upload(as_("bob"), doc["id"], "big.pdf", samples.PDF + b"0" * 4096)
    assert response.status_code == 413 and code(response) == "attachment_too_large"
    assert response.json()["error"]["max_bytes"] == 2048
    assert upload(as_("bob"), doc["id"], "ok.pdf", samples.PDF).status_code == 201


def test_empty_file_and_missing_file(as_, draft):
    doc = draft("bob")
    assert upload(as_("bob"), doc["id"], "empty.pdf", b"").status_code == 400
    response = as_("bob").post(
        f"/api/v1/documents/{doc['id']}/attachments/", {"other": "x"}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    response = as_("bob").post(
        f"/api/v1/documents/{doc['id']}/attachments/", {"file": "x"}, format="json"
    )
    assert response.status_code == 415 and code(response) == "unsupported_media_type"


def test_body_limit_of_the_upload_path(settings):
    assert body_limit_for("/api/v1/documents/") == settings.GOVDESK_MAX_BODY_BYTES
    assert (
        body_limit_for("/api/v1/documents/12/attachments/") > settings.GOVDESK_ATTACHMENT_MAX_BYTES
    )
    assert body_limit_for("/api/v1/documents/12/attachments/3/") == settings.GOVDESK_MAX_BODY_BYTES
    settings.GOVDESK_BODY_LIMITS = [(r"^/x/$", 5000)]
    assert body_limit_for("/x/") == 5000
    assert body_limit_for("/api/v1/documents/12/attachments/") == settings.GOVDESK_MAX_BODY_BYTES


def test_upload_larger_than_the_global_body_limit(as_, draft, settings):
    """A 1.5 MiB file passes (the global limit is 1 MiB), with an Idempotency-Key too."""
    key = uuid.uuid4().hex
    assert settings.GOVDESK_MAX_BODY_BYTES < 1_572_864 < settings.GOVDESK_ATTACHMENT_MAX_BYTES
    doc = draft("bob")
    data = samples.PDF.replace(b"trailer", b"%" * 1_572_864 + b"\ntrailer")  # a comment
    client = as_("bob")
    first = upload(client, doc["id"], "大文件.pdf", data, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    again = upload(client, doc["id"], "大文件.pdf", data, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = upload(client, doc["id"], "另一个.pdf", data, HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 422 and code(other) == "idempotency_key_reused"
    assert Attachment.objects.count() == 1
    # The global limit still applies elsewhere.
    big = client.post("/api/v1/documents/", {"title": "x" * 1_100_000}, format="json")
    assert big.status_code == 413 and code(big) == "payload_too_large"


def test_upload_over_the_path_limit_is_refused_before_reading(as_, draft, settings):
    settings.GOVDESK_BODY_LIMITS = [(r"^/api/v1/documents/[0-9]+/attachments/$", 4096)]
    doc = draft("bob")
    response = upload(as_("bob"), doc["id"], "a.pdf", samples.PDF + b"0" * 8192)
    assert response.status_code == 413 and code(response) == "payload_too_large"


def test_download_headers(as_, draft):
    doc = draft("bob")
    name = "会议纪要 第1期.pdf"
    created = upload(as_("bob"), doc["id"], name, samples.PDF).json()
    response = as_("leo").get(created["download_url"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=utf-8''{quote(name)}" in disposition
    assert response["Content-Length"] == str(len(samples.PDF))
    assert "sandbox" in response["Content-Security-Policy"]


def test_download_is_hidden_from_other_units(as_, draft):
    doc = draft("bob")
    created = upload(as_("bob"), doc["id"], "a.pdf", samples.PDF).json()
    response = as_("charlie").get(created["download_url"])
    assert response.status_code == 404
    assert events("document.access_denied", "denied")
    assert as_("bob").get(f"/api/v1/documents/{doc['id']}/attachments/999999/").status_code == 404
    # Another document's attachment id under this document: 404.
    other = draft("bob")
    wrong = f"/api/v1/documents/{other['id']}/attachments/{created['id']}/"
    assert as_("bob").get(wrong).status_code == 404


def test_upload_permissions(as_, draft):
    doc = draft("bob")
    assert upload(as_("charlie"), doc["id"], "a.pdf", samples.PDF).status_code == 404
    response = upload(as_("leo"), doc["id"], "a.pdf", samples.PDF)
    assert response.status_code == 403
    document = Document.objects.get(pk=doc["id"])
    actions.set_status(document, "in_progress")
    response = upload(as_("bob"), doc["id"], "a.pdf", samples.PDF)
    assert response.status_code == 409 and code(response) == "document_not_editable"
    assert Attachment.objects.count() == 0


def test_remove_attachment(as_, draft, attachment_dir):
    doc = draft("bob")
    created = upload(as_("bob"), doc["id"], "a.pdf", samples.PDF).json()
    url = created["download_url"]
    assert as_("charlie").delete(url).status_code == 404
    assert as_("leo").delete(url).status_code == 403
    response = as_("bob").delete(url)
    assert response.status_code == 204
    assert as_("bob").get(url).status_code == 404
    assert as_("bob").delete(url).status_code == 404
    detail = as_("bob").get(f"/api/v1/documents/{doc['id']}/").json()
    assert detail["attachments"] == [] and detail["version"] == 3
    # Kept for the record: the row (soft-deleted) and the file.
    attachment = Attachment.objects.get(pk=created["id"])
    assert attachment.deleted_at is not None and any(attachment_dir.rglob(attachment.storage_key))
    history = as_("bob").get(f"/api/v1/documents/{doc['id']}/versions/").json()["results"]
    assert (
        history[0]["changed_fields"] == ["attachments"]
        and history[0]["snapshot"]["attachments"] == []
    )
    assert history[1]["snapshot"]["attachments"][0]["sha256"] == created["sha256"]
    assert events("document.attachment_removed")


def test_attachment_dir_inside_static_root_fails_the_check(settings):
    from api.documents.checks import attachment_dir_outside_web_root

    # The default location (VAR_DIR/attachments) passes; inside STATIC_ROOT fails.
    settings.GOVDESK_ATTACHMENT_DIR = Path(settings.VAR_DIR) / "attachments"
    assert attachment_dir_outside_web_root() == []
    settings.GOVDESK_ATTACHMENT_DIR = settings.STATIC_ROOT / "attachments"
    (error,) = attachment_dir_outside_web_root()
    assert error.id == "documents.E001"


def test_rendered_and_instruction_dirs_may_not_lie_in_a_web_root(settings, tmp_path):
    from api.documents.checks import instruction_dir_outside_web_root
    from api.documents.rendering.checks import render_dir_outside_web_root

    assert instruction_dir_outside_web_root() == [] and render_dir_outside_web_root() == []
    # The PWA build served at / is a web root too (WHITENOISE_ROOT).
    settings.WHITENOISE_ROOT = str(tmp_path / "dist")
    settings.GOVDESK_RENDER_DIR = tmp_path / "dist" / "rendered"
    settings.GOVDESK_INSTRUCTION_DIR = settings.STATIC_ROOT / "instructions"
    assert [e.id for e in render_dir_outside_web_root()] == ["documents.E011"]
    assert [e.id for e in instruction_dir_outside_web_root()] == ["documents.E012"]
