"""POST /api/v1/seals/verify/ (docs/seals.md#verification)."""

from __future__ import annotations

import hashlib
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.audit.models import AuditEvent
from api.seals import signing
from tests.personas import client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/seals/verify/"


@pytest.fixture
def signed(office_seal, pdf) -> bytes:
    return signing.apply_seal(
        pdf, office_seal, box=(0, 380, 120, 499, 239), reason="r", signer_name="柯拉"
    )


def post_pdf(client, data: bytes, content_type: str = "application/pdf"):
    return client.generic("POST", URL, data, content_type=content_type)


def test_raw_pdf_upload_reports_intact_trusted_unit(org, personas, signed, caplog):
    caplog.set_level(logging.DEBUG)
    response = post_pdf(client_for(personas["charlie"]), signed)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["intact"] and body["certificate_trusted"] and body["covers_whole_file"]
    assert body["signed_by_unit"]["name"] == org.office.name
    assert body["revoked_at_signing_time"] is False and body["signed_at"]
    assert body["sha256"] == hashlib.sha256(signed).hexdigest()
    event = AuditEvent.objects.get(action="seal.verified")
    assert event.actor_id == personas["charlie"].pk and event.detail["intact"] is True
    for text in (response.content.decode(), caplog.text, str(event.detail)):
        assert "PRIVATE KEY" not in text


def test_multipart_upload_and_one_changed_byte(personas, signed):
    client = client_for(personas["bob"])
    response = client.post(URL, {"file": SimpleUploadedFile("x.pdf", signed)}, format="multipart")
    assert response.status_code == 200 and response.json()["intact"] is True
    changed = bytearray(signed)
    changed[len(signed) // 3] ^= 0x20
    response = post_pdf(client, bytes(changed))
    assert response.status_code == 200 and response.json()["intact"] is False


def test_not_a_pdf_is_415_and_audited(personas, ca_ready):
    client = client_for(personas["bob"])
    response = post_pdf(client, b"\x89PNG\r\n\x1a\n not a pdf")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "not_a_pdf"
    event = AuditEvent.objects.get(action="seal.verified")
    assert event.result == "failed" and event.detail["code"] == "not_a_pdf"
    response = client.post(URL, {"file": SimpleUploadedFile("x.pdf", b"PK\x03\x04")})
    assert response.json()["error"]["code"] == "not_a_pdf"
    response = client.post(URL, {"a": 1}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    response = client.post(URL, {}, format="multipart")
    assert response.status_code == 400


def test_size_limit(personas, ca_ready, settings):
    client = client_for(personas["bob"])
    settings.GOVDESK_SEAL_VERIFY_MAX_BYTES = 2048
    response = post_pdf(client, b"%PDF-1.7\n" + b"0" * 4096)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    response = client.post(URL, {"file": SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * 4096)})
    assert response.status_code == 413
    # The middleware's per-path limit allows 20 MiB here, not the 1 MiB default.
    settings.GOVDESK_SEAL_VERIFY_MAX_BYTES = 20 * 1_048_576
    big = b"%PDF-1.7\n" + b"%" * (2 * 1_048_576)
    assert post_pdf(client, big).status_code == 200


def test_anonymous_is_401():
    response = Client().post(URL, b"%PDF-1.7", content_type="application/pdf")
    assert response.status_code == 401
