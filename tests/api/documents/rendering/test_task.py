"""render_document: stored, versioned by content, idempotent, audited
(docs/rendering.md#storage, docs/rendering.md#the-task)."""

from __future__ import annotations

import hashlib

import pytest
from django.db.models import F
from django.utils import timezone

from api.audit.models import AuditEvent
from api.documents import actions
from api.documents.models import Document, RenderedPdf
from api.documents.rendering.actions import pdf_path
from api.documents.rendering.render import full_date, input_for
from api.documents.tasks import render_document
from tests.api.documents.conftest import DRAFT
from tests.api.documents.rendering.conftest import NEEDS_POPPLER, joined, pages_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def numbered(org, personas):
    org.office.doc_prefix = "测府办发"
    org.office.save(update_fields=["doc_prefix"])
    document = actions.create_draft(
        personas["bob"], **{**DRAFT, "cc": "市委办公室", "urgency": "very_urgent"}
    )
    actions.set_status(document, "in_progress")
    actions.assign_number(document.pk, personas["leo"])
    return Document.objects.get(pk=document.pk)


def test_render_is_stored_once_for_unchanged_input(numbered):
    first = render_document(numbered.pk)
    assert first["created"] is True and first["version"] == 1
    again = render_document(numbered.pk)
    assert again == {**first, "created": False}
    assert RenderedPdf.objects.filter(document=numbered).count() == 1
    rendering = RenderedPdf.objects.get(pk=first["rendering"])
    data = pdf_path(rendering).read_bytes()
    assert hashlib.sha256(data).hexdigest() == rendering.sha256 == first["sha256"]
    assert rendering.size == len(data)
    assert rendering.path == f"{numbered.pk}/{rendering.sha256}.pdf"
    assert rendering.document_version == numbered.version
    assert rendering.meta["page_count"] == 1
    assert rendering.meta["seal"]["page"] == 0 and len(rendering.meta["seal"]["box"]) == 4
    events = AuditEvent.objects.filter(action="document.rendered")
    assert events.count() == 1
    assert events.get().detail["sha256"] == rendering.sha256


def test_a_changed_document_gets_a_new_version(numbered):
    first = render_document(numbered.pk)
    Document.objects.filter(pk=numbered.pk).update(
        body=[*numbered.body, {"level": 0, "text": "请于12月1日前报送。"}], version=F("version") + 1
    )
    second = render_document(numbered.pk)
    assert second["created"] and second["version"] == 2 and second["sha256"] != first["sha256"]
    assert render_document(numbered.pk)["created"] is False
    assert list(
        RenderedPdf.objects.filter(document=numbered).values_list("version", flat=True)
    ) == [2, 1]
    assert pdf_path(RenderedPdf.objects.get(version=1, document=numbered)).is_file()


def test_a_missing_document_is_no_error():
    assert render_document(999_999) is None


def test_input_uses_the_number_date_and_current_attachments(numbered):
    data = input_for(numbered)
    assigned = numbered.number_assignments.get().assigned_at
    assert data.date == timezone.localdate(assigned)
    assert data.doc_number == numbered.doc_number and data.urgency == "very_urgent"
    assert data.unit_name == numbered.unit.name and data.signer == ""


@NEEDS_POPPLER
def test_the_stored_pdf_reads_back(numbered, tmp_path):
    rendering = RenderedPdf.objects.get(pk=render_document(numbered.pk)["rendering"])
    text = "\n".join(pages_text(pdf_path(rendering).read_bytes(), tmp_path))
    flat = joined(text)
    assert numbered.doc_number in text and numbered.title in flat
    assert "特急" in text and "各单位要高度重视。" in flat
    assert full_date(input_for(numbered).date) in text
    assert "抄送：市委办公室。" in text
