"""Rendering, sealing and verifying a document over HTTP, and the document PDF endpoints.

Docs: docs/documents.md#the-rendered-pdf, docs/seals.md#the-seal-step. A demo document
signed off and numbered is rendered (the Celery task run synchronously), the custodian
seals it with a TOTP code, GET …/verify/ says intact + trusted + 市政府办公室, and a
one-byte change posted to /api/v1/seals/verify/ is not intact.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command

from api.documents.models import RenderedPdf
from api.documents.tasks import render_document
from tests.api.seals.flow import otp, to_seal_step, user
from tests.personas import client_for


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    settings.GOVDESK_SEAL_DIR = tmp_path / "seals"


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_done_when_render_seal_verify_and_tamper(demo):
    document, task = to_seal_step()
    clerk = client_for(user("clerk"))
    missing = clerk.get(f"/api/v1/documents/{document.pk}/pdf/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_rendered"
    result = render_document.apply(args=[document.pk]).get()  # the task, synchronously
    assert result["version"] == 1

    unsealed = clerk.get(f"/api/v1/documents/{document.pk}/pdf/")
    assert unsealed.status_code == 200
    pdf = body_of(unsealed)
    assert pdf.startswith(b"%PDF-")
    assert unsealed["ETag"] == f'"{hashlib.sha256(pdf).hexdigest()}"'
    assert unsealed["X-Content-Type-Options"] == "nosniff"
    assert unsealed["Content-Type"] == "application/pdf"
    assert unsealed["Content-Disposition"].startswith("attachment")
    not_sealed = clerk.get(f"/api/v1/documents/{document.pk}/verify/")
    assert not_sealed.status_code == 404
    assert not_sealed.json()["error"]["code"] == "not_sealed"

    sealed = client_for(user("custodian")).post(
        f"/api/v1/tasks/{task.pk}/seal/", {"otp": otp()}, format="json"
    )
    assert sealed.status_code == 200, sealed.content
    assert sealed.json()["opinion"] == "已用印"
    assert RenderedPdf.objects.filter(document=document).count() == 2  # no re-render

    verify = clerk.get(f"/api/v1/documents/{document.pk}/verify/")
    assert verify.status_code == 200, verify.content
    report = verify.json()
    assert report["intact"] and report["certificate_trusted"] and report["covers_whole_file"]
    assert not report["revoked_at_signing_time"] and report["signed_at"]
    assert report["signed_by_unit"]["short_name"] == "市政府办公室"
    assert report["signed_by_unit"]["code"] == "XC-OFF"

    download = clerk.get(f"/api/v1/documents/{document.pk}/pdf/")
    signed = body_of(download)
    assert download["ETag"] == f'"{hashlib.sha256(signed).hexdigest()}"' != unsealed["ETag"]
    assert signed.startswith(pdf)  # an incremental update of the rendering
    assert report["sha256"] == hashlib.sha256(signed).hexdigest()

    ok = clerk.post("/api/v1/seals/verify/", data=signed, content_type="application/pdf")
    assert ok.status_code == 200 and ok.json()["intact"]
    tampered = bytearray(signed)
    middle = len(pdf) // 2  # inside the signed byte range (the original content)
    tampered[middle] ^= 0x01
    changed = clerk.post(
        "/api/v1/seals/verify/", data=bytes(tampered), content_type="application/pdf"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["intact"] is False


def test_pdf_and_verify_have_the_documents_visibility(demo):
    document, _ = to_seal_step()
    render_document.apply(args=[document.pk])
    outsider = client_for(user("b_staff"))  # another unit's staff: the document is hidden
    for suffix in ("pdf", "verify"):
        response = outsider.get(f"/api/v1/documents/{document.pk}/{suffix}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client_for(user("clerk")).get(f"/api/v1/documents/{document.pk}/pdf/").status_code == 200
    assert client_for(None).get(f"/api/v1/documents/{document.pk}/pdf/").status_code == 401


def test_pdf_serves_the_sealed_version_even_after_a_later_rendering(demo):
    document, task = to_seal_step()
    response = client_for(user("custodian")).post(
        f"/api/v1/tasks/{task.pk}/seal/", {"otp": otp()}, format="json"
    )
    assert response.status_code == 200, response.content
    sealed = RenderedPdf.objects.get(document=document, meta__sealed=True)
    # A re-rendering (e.g. after an instruction sheet) adds an unsealed version on top.
    RenderedPdf.objects.create(
        document=document,
        version=sealed.version + 1,
        document_version=document.version,
        sha256="0" * 64,
        path="missing.pdf",
        size=1,
        meta={},
    )
    download = client_for(user("clerk")).get(f"/api/v1/documents/{document.pk}/pdf/")
    assert download.status_code == 200
    assert download["ETag"] == f'"{sealed.sha256}"'
