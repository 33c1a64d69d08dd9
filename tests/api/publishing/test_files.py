"""A post's attachments (the documents' store and content checks) and its cover image
(Pillow). Docs: docs/publishing.md#attachments-and-cover."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.api.publishing.conftest import publish
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_attachment_text_is_searchable_and_refused_types_are_415(world):
    post_id = publish(
        world, {"kind": "city"}, title="会议通知", body=[{"level": 0, "text": "见附件。"}]
    )
    publisher, reader = client_for(world.publisher), client_for(world.reader)
    text = SimpleUploadedFile("议程.txt", "会议议程：一、汛期值班安排。".encode(), "text/plain")
    response = publisher.post(
        f"/api/v1/posts/{post_id}/attachments/", {"file": text}, format="multipart"
    )
    assert response.status_code == 201, response.content
    attachment = response.json()
    assert [h["id"] for h in reader.get("/api/v1/search/?q=汛期").json()["results"]] == [post_id]
    download = reader.get(attachment["url"])
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    exe = SimpleUploadedFile(
        "setup.txt", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "text/plain"
    )
    refused = publisher.post(
        f"/api/v1/posts/{post_id}/attachments/", {"file": exe}, format="multipart"
    )
    assert refused.status_code == 415
    # A reader of the audience may not attach.
    again = SimpleUploadedFile("b.txt", "正文".encode(), "text/plain")
    assert (
        reader.post(
            f"/api/v1/posts/{post_id}/attachments/", {"file": again}, format="multipart"
        ).status_code
        == 403
    )


def test_cover_is_reencoded_and_thumbnailed(world):
    post_id = publish(world, {"kind": "city"})
    publisher, reader = client_for(world.publisher), client_for(world.reader)
    upload = SimpleUploadedFile("cover.png", _png(2400, 1600), "image/png")
    response = publisher.post(
        f"/api/v1/posts/{post_id}/cover/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 200, response.content
    full = reader.get(f"/api/v1/posts/{post_id}/cover/")
    thumb = reader.get(f"/api/v1/posts/{post_id}/cover/?size=thumb")
    assert full["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(full.streaming_content))).size == (1200, 800)
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (360, 240)
    bad = SimpleUploadedFile("cover.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")
    assert (
        publisher.post(
            f"/api/v1/posts/{post_id}/cover/", {"file": bad}, format="multipart"
        ).status_code
        == 415
    )
