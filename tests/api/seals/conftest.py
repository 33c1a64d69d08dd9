"""Fixtures for the seal tests (docs/seals.md): a CA in a temporary GOVDESK_SEAL_DIR,
the office's seal, a custodian with TOTP, a numbered document and small PDFs."""

from __future__ import annotations

import io

import pyotp
import pytest
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from api.accounts.models import Role
from api.documents.models import Document
from api.seals import actions, ca
from tests.personas import make_user

A4 = (0, 0, 595, 842)


def make_pdf(pages: int = 1) -> bytes:
    """A small unsigned PDF written by pyHanko's own writer."""
    writer = PdfFileWriter()
    for number in range(pages):
        content = f"0 0 1 rg 72 {700 - 20 * number} 200 12 re f".encode()
        stream = writer.add_object(generic.StreamObject(stream_data=content))
        writer.insert_page(PageObject(contents=stream, media_box=A4))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def code_for(user, step: int = 0) -> str:
    """A TOTP code of ``user`` for the current time step (+``step``)."""
    totp = pyotp.TOTP(user.totp_secret)
    return totp.generate_otp(totp.timecode(timezone.now()) + step)


@pytest.fixture(autouse=True)
def seal_dir(settings, tmp_path):
    settings.GOVDESK_SEAL_DIR = tmp_path / "seals"
    return settings.GOVDESK_SEAL_DIR


@pytest.fixture
def ca_ready(db, seal_dir):
    return ca.init_ca()


@pytest.fixture
def office_seal(org, ca_ready):
    return actions.issue_seal(org.office)


@pytest.fixture
def cora(org):
    """The office's seal custodian (印章管理员) with a confirmed TOTP factor."""
    user = make_user("cora", org.office, Role.SEAL_CUSTODIAN, Role.STAFF, display_name="柯拉")
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return user


@pytest.fixture
def document(org, personas):
    return Document.objects.create(
        direction="outgoing",
        title="关于做好值班工作的通知",
        doc_type="notice",
        unit=org.office,
        drafter=personas["bob"],
        doc_number="市府办〔2026〕1号",
        status="in_progress",
    )


@pytest.fixture
def pdf() -> bytes:
    return make_pdf(2)
