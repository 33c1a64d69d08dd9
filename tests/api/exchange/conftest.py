"""Fixtures of the exchange tests (docs/exchange.md): recipient units with clerks, a
sealed outgoing document of the office (its sealed rendering is a stored file whose
row says ``sealed``, as the seal step leaves it), and helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from api.accounts.models import Role
from api.documents.models import Document, RenderedPdf
from tests.personas import make_user

PDF = b"%PDF-1.7\n% a sealed notice (test stand-in)\n%%EOF\n"


@pytest.fixture(autouse=True)
def render_dir(settings, tmp_path):
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    return settings.GOVDESK_RENDER_DIR


def store_sealed(document: Document, data: bytes = PDF) -> RenderedPdf:
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{document.pk}/{digest}.pdf"
    target = Path(settings.GOVDESK_RENDER_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return RenderedPdf.objects.create(
        document=document,
        version=2,
        document_version=document.version,
        sha256=digest,
        path=relative,
        size=len(data),
        meta={"kind": "sealed", "sealed": True, "pages": 1},
    )


def make_document(unit, drafter, *, sealed: bool = True, direction: str = "outgoing", **extra):
    now = timezone.now()
    document = Document.objects.create(
        direction=direction,
        title=extra.pop("title", "关于做好冬季安全生产工作的通知"),
        doc_type=extra.pop("doc_type", "notice"),
        urgency=extra.pop("urgency", "urgent"),
        unit=unit,
        drafter=drafter,
        body=[{"level": 0, "text": "请认真贯彻落实。"}],
        doc_number=extra.pop("doc_number", "测府办发〔2026〕1号"),
        status=extra.pop("status", "completed"),
        created_at=now,
        updated_at=now,
    )
    if sealed:
        store_sealed(document)
    return document


@dataclass
class Exchange:
    org: object
    personas: dict
    bea: object  # clerk of the bureau
    bert: object  # a second clerk of the bureau
    dan: object  # clerk of the district
    tom: object  # clerk of the township
    document: Document  # the office's sealed notice


@pytest.fixture
def ex(org, personas) -> Exchange:
    bob = personas["bob"]
    return Exchange(
        org=org,
        personas=personas,
        bea=make_user("bea", org.bureau, Role.CLERK, Role.STAFF, display_name="贝雅"),
        bert=make_user("bert", org.bureau, Role.CLERK, Role.STAFF, display_name="伯特"),
        dan=make_user("dan", org.district, Role.CLERK, Role.STAFF, display_name="丹"),
        tom=make_user("tom", org.township, Role.CLERK, Role.STAFF, display_name="汤姆"),
        document=make_document(org.office, bob),
    )
