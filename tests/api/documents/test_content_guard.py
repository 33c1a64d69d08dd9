"""The classification guard on content: body paragraphs and attachment text
(docs/documents.md#classification-markings-in-content)."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.documents import previews
from api.documents.classification import find_content_marking
from api.documents.models import Attachment, Document, DocumentVersion
from tests.api.documents.conftest import DOCX, DRAFT, code, events

pytestmark = pytest.mark.django_db

CONTENT_MARKED = [
    "密级：秘密★6个月",
    "秘密★6个月",
    "机密★",
    "密级 机密",
    "机密",
    "【绝密】",
    "秘  密",
    "000123          机密",
    "机密          特急",
    "SECRET",
]
CONTENT_ORDINARY = [
    "各单位要严格保守国家秘密，不得在互联网上处理涉密信息。",
    "国家秘密的密级分为绝密、机密、秘密三级。",
    "文件首页不得标注（秘密）字样。",
    "秘密文件管理办法另行制定。",
    "秘书处负责会务。",
    "工作秘密和内部资料不得公开。",
    "Secret ballots are used for elections.",
    "保 守 国 家 秘 密",
]


@pytest.mark.parametrize("text", CONTENT_MARKED)
def test_content_markings_are_found(text):
    assert find_content_marking(text) is not None


@pytest.mark.parametrize("text", CONTENT_ORDINARY)
def test_ordinary_prose_is_not_a_content_marking(text):
    assert find_content_marking(text) is None


@pytest.fixture(autouse=True)
def render_dir(settings, tmp_path):
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    return settings.GOVDESK_RENDER_DIR


def body(*texts: str) -> list[dict]:
    return [{"level": 0, "text": text} for text in texts]


def test_a_marked_body_paragraph_is_refused_with_its_number_and_recorded(as_, personas):
    payload = {
        **DRAFT,
        "body": body("各区县人民政府：", "现将有关事项通知如下。", "密级：秘密★6个月"),
    }
    response = as_("bob").post(
        "/api/v1/documents/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "classified_refused"
    assert error["place"] == {"field": "body", "paragraph": 3}
    assert "body paragraph 3" in error["message"] and "body" in error["fields"]
    assert Document.objects.count() == 0 and DocumentVersion.objects.count() == 0
    (event,) = events("document.classified_refused", "denied")
    assert event.actor_id == personas["bob"].pk
    assert event.detail["field"] == "body" and event.detail["place"] == {"paragraph": 3}


def test_the_refusal_names_the_place_in_chinese_too(as_):
    payload = {**DRAFT, "body": body("机密")}
    response = as_("bob").post(
        "/api/v1/documents/", payload, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert response.status_code == 422
    assert "正文第 1 段" in response.json()["error"]["message"]


def test_an_edit_adding_a_marked_paragraph_is_refused(as_, draft):
    doc = draft("bob")
    response = as_("bob").patch(
        f"/api/v1/documents/{doc['id']}/", {"body": body("正文。", "绝密★长期")}, format="json"
    )
    assert response.status_code == 422 and code(response) == "classified_refused"
    assert response.json()["error"]["place"] == {"field": "body", "paragraph": 2}
    assert Document.objects.get(pk=doc["id"]).version == 1


def test_a_clean_document_with_prose_about_secrets_is_accepted(as_):
    payload = {**DRAFT, "body": body(*CONTENT_ORDINARY)}
    response = as_("bob").post("/api/v1/documents/", payload, format="json")
    assert response.status_code == 201, response.content
    assert events("document.classified_refused") == []


def upload(client, doc_id: int, name: str, data: bytes):
    return client.post(
        f"/api/v1/documents/{doc_id}/attachments/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_marked_text_attachment_is_refused_with_its_line(as_, draft, attachment_dir):
    doc = draft("bob")
    data = "会议纪要\n\n秘密★1年\n一、参会人员\n".encode()
    response = upload(as_("bob"), doc["id"], "纪要.txt", data)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "classified_refused"
    assert error["place"] == {"field": "attachment", "attachment": "纪要.txt", "line": 3}
    assert "纪要.txt" in error["message"] and "line 3" in error["message"]
    assert Attachment.objects.count() == 0
    assert not any(p.is_file() for p in attachment_dir.rglob("*"))
    (event,) = events("document.classified_refused", "denied")
    assert event.detail["where"] == "attachment" and event.detail["field"] == "attachment"
    assert event.detail["place"] == {"attachment": "纪要.txt", "line": 3}


def test_a_gb18030_text_attachment_is_decoded_before_the_scan(as_, draft, attachment_dir):
    doc = draft("bob")
    response = upload(
        as_("bob"), doc["id"], "通知.txt", "关于会议的通知\n密级：机密\n".encode("gb18030")
    )
    assert response.status_code == 422 and code(response) == "classified_refused"
    assert response.json()["error"]["place"]["line"] == 2


def _pdf(pages: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for text in pages:
        pdf.setFont("Helvetica", 14)
        pdf.drawString(72, 760, text)
        pdf.drawString(72, 700, "Meeting notes of the city office.")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="poppler-utils (pdftotext, pdfinfo) is not installed; .ci/run installs it",
)


@needs_poppler
def test_a_pdf_attachment_marked_on_page_two_is_refused_with_the_page(
    as_, draft, attachment_dir, render_dir
):
    doc = draft("bob")
    data = _pdf(["Annual plan", "SECRET"])
    response = upload(as_("bob"), doc["id"], "plan.pdf", data)
    assert response.status_code == 422, response.content
    place = response.json()["error"]["place"]
    assert place == {"field": "attachment", "attachment": "plan.pdf", "page": 2}
    assert Attachment.objects.count() == 0
    assert not any(p.is_file() for p in attachment_dir.rglob("*"))
    assert not any(p.is_file() for p in render_dir.rglob("*"))  # the preview went too


@needs_poppler
def test_a_clean_pdf_attachment_is_accepted(as_, draft, attachment_dir):
    doc = draft("bob")
    response = upload(as_("bob"), doc["id"], "plan.pdf", _pdf(["Annual plan", "Budget"]))
    assert response.status_code == 201, response.content


@pytest.fixture
def simple_template(org, personas):
    """One 签发 step by leo, for the office's outgoing documents."""
    from api.workflow.models import TemplateStep, WorkflowTemplate

    template = WorkflowTemplate.objects.create(unit=org.office, name="发文", direction="outgoing")
    TemplateStep.objects.create(
        template=template,
        order=1,
        kind="sign_off",
        name="签发",
        assignee_kind="user",
        user=personas["leo"],
    )
    return template


def _submit(client, doc_id: int, template_id: int):
    return client.post(
        f"/api/v1/documents/{doc_id}/submit/",
        {"template_id": template_id, "participants": {}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def office_attachment(as_, draft, attachment_dir, monkeypatch):
    """A draft with a .docx attachment whose preview conversion was enqueued (the
    worker does not run here)."""
    monkeypatch.setattr(previews, "enqueue_after_commit", lambda *a: None)
    monkeypatch.setattr("api.documents.actions.enqueue_after_commit", lambda *a: None)
    doc = draft("bob")
    response = upload(as_("bob"), doc["id"], "方案.docx", DOCX)
    assert response.status_code == 201, response.content
    return doc, response.json()


def _flag(sha256: str, verdict: dict) -> None:
    """What convert_preview leaves once the preview is ready and scanned."""
    previews._write_state(sha256, state="ready", page_count=4, kind="docx")
    (previews.preview_dir(sha256) / "scan.json").write_text(json.dumps(verdict))


def test_submission_waits_while_an_office_attachment_is_being_checked(
    as_, office_attachment, simple_template
):
    doc, attachment = office_attachment
    preview = as_("bob").get(
        f"/api/v1/documents/{doc['id']}/attachments/{attachment['id']}/preview/"
    )
    assert preview.json()["content_check"] == {"state": "pending"}
    response = _submit(as_("bob"), doc["id"], simple_template.pk)
    assert response.status_code == 409, response.content
    assert code(response) == "attachment_check_pending"
    assert Document.objects.get(pk=doc["id"]).status == "draft"
    assert len(events("document.classified_check_pending", "denied")) == 1


def test_submission_is_refused_when_the_preview_text_carries_a_marking(
    as_, office_attachment, simple_template
):
    doc, attachment = office_attachment
    _flag(attachment["sha256"], {"state": "flagged", "page": 4, "rule": "star", "marking": "机密★"})
    preview = as_("bob").get(
        f"/api/v1/documents/{doc['id']}/attachments/{attachment['id']}/preview/"
    )
    assert preview.json()["content_check"] == {"state": "flagged", "page": 4, "marking": "机密★"}
    response = _submit(as_("bob"), doc["id"], simple_template.pk)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "classified_refused"
    assert error["place"] == {"field": "attachment", "attachment": "方案.docx", "page": 4}
    assert "page 4" in error["message"]
    assert Document.objects.get(pk=doc["id"]).status == "draft"
    (event,) = events("document.classified_refused", "denied")
    assert event.detail["where"] == "submit"


def test_submission_goes_ahead_once_the_preview_text_is_clean(
    as_, office_attachment, simple_template
):
    doc, attachment = office_attachment
    _flag(attachment["sha256"], {"state": "clean"})
    response = _submit(as_("bob"), doc["id"], simple_template.pk)
    assert response.status_code == 201, response.content


def test_submission_refuses_a_body_marked_before_the_guard_existed(as_, draft, simple_template):
    doc = draft("bob")
    Document.objects.filter(pk=doc["id"]).update(body=body("正文。", "秘密★1年"))
    response = _submit(as_("bob"), doc["id"], simple_template.pk)
    assert response.status_code == 422
    assert response.json()["error"]["place"] == {"field": "body", "paragraph": 2}


@needs_poppler
def test_the_preview_task_scans_the_text_it_extracted(settings, tmp_path):
    source = tmp_path / "in.pdf"
    source.write_bytes(_pdf(["Annual plan", "Budget", "TOP SECRET"]))
    sha = "ab" * 32
    previews.convert_preview(str(source), sha, "pdf")
    verdict = previews.scan_markings(sha)
    assert verdict["state"] == "flagged" and verdict["page"] == 3
    assert json.loads((previews.preview_dir(sha) / "scan.json").read_text()) == verdict


def test_an_attachment_added_while_the_submission_was_being_checked_stops_it(
    as_, draft, attachment_dir, simple_template, monkeypatch
):
    from api.documents import content_guard

    doc = draft("bob")
    assert upload(as_("bob"), doc["id"], "清单.txt", "值班清单\n".encode()).status_code == 201
    # The check saw no attachment; the upload landed before the submission's lock.
    monkeypatch.setattr(content_guard, "refuse_if_content_classified", lambda *a: frozenset())
    response = _submit(as_("bob"), doc["id"], simple_template.pk)
    assert response.status_code == 409 and code(response) == "attachment_check_pending"
    assert Document.objects.get(pk=doc["id"]).status == "draft"
