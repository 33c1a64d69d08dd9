"""Fixtures for the page tests (docs/reading-on-phones.md): a per-test render
directory and a numbered, rendered three-page document drafted by bob (office)."""

from __future__ import annotations

import shutil

import pytest

from api.documents import actions
from api.documents.models import Document, RenderedPdf
from api.documents.rendering import fonts
from api.documents.rendering.actions import store_rendering
from tests.api.documents.conftest import DRAFT
from tests.api.documents.rendering.samples import long_body

TITLE = "关于做好冬季值班工作的通知"


@pytest.fixture(autouse=True)
def render_dir(settings, tmp_path):
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftoppm, pdftotext) is not installed; .ci/run installs it")
    missing = [message for _, message in fonts.problems()]
    if missing:
        pytest.skip("fonts missing (.ci/run installs them): " + "; ".join(missing))
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    return settings.GOVDESK_RENDER_DIR


@pytest.fixture
def unrendered(org, personas) -> Document:
    org.office.doc_prefix = "测府办发"
    org.office.save(update_fields=["doc_prefix"])
    document = actions.create_draft(
        personas["bob"], **{**DRAFT, "title": TITLE, "body": long_body(12)}
    )
    actions.set_status(document, "in_progress")
    actions.assign_number(document.pk, personas["leo"])
    return Document.objects.get(pk=document.pk)


@pytest.fixture
def rendered(unrendered) -> RenderedPdf:
    rendering, _ = store_rendering(unrendered.pk)
    assert rendering.meta["page_count"] == 3
    return rendering
