"""The classification guard (DOMAIN.md rule 1; docs/documents.md#classification)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.documents.classification import find_marking
from api.documents.models import Attachment, Document, DocumentVersion
from tests.api.documents.conftest import DRAFT, PDF, code, events

MARKED = [
    "秘密★1年",
    "机密★",
    "绝密☆长期",
    "机密*5年",
    "机密＊5年",
    "【机密】关于调整人事的通知",
    "关于调整人事的通知（秘密）",
    "[绝密]",
    "〔机密级〕",
    "密级：秘密",
    "密级 机密",
    "机密",
    "秘  密",
    "绝密 关于某事项的请示",
    "关于某事项的请示 机密",
    "機密★10年",
    "祕密",
    "SECRET",
    "Top Secret",
    "CONFIDENTIAL",
    "机密_方案.pdf",
    "秘密.docx",
    "方案-绝密.pdf",
]
ORDINARY = [
    "秘书处工作安排",
    "关于任命秘书长的通知",
    "秘鲁经贸代表团来访",
    "神秘的数字经济",
    "关于加强保密工作的通知",
    "涉密人员管理办法",
    "关于做好国家秘密定密工作的通知",
    "保守国家秘密是公民的义务",
    "绝密、机密、秘密三级的区分",
    "内部",
    "内部资料 注意保存",
    "【工作秘密】",
    "秘密文件管理办法",
    "Secretariat notes",
    "机密方案.pdf",
    "",
]


@pytest.mark.parametrize("text", MARKED)
def test_markings_are_found(text):
    assert find_marking(text) is not None


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_words_are_not_markings(text):
    assert find_marking(text) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("classification", "secret"),
        ("classification", "秘密"),
        ("classification", "internal"),
        ("title", "【机密】关于调整人事的通知"),
        ("header_text", "秘密★1年 特急"),
    ],
)
def test_create_with_a_marking_is_refused_and_recorded(as_, personas, field, value):
    response = as_("bob").post(
        "/api/v1/documents/", {**DRAFT, field: value}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422, response.content
    assert code(response) == "classified_refused"
    assert field in response.json()["error"]["fields"]
    assert "recorded" in response.json()["error"]["message"]
    assert Document.objects.count() == 0 and DocumentVersion.objects.count() == 0
    (event,) = events("document.classified_refused", "denied")
    assert event.actor_id == personas["bob"].pk
    assert event.detail["where"] == "create" and event.detail["field"] == field


@pytest.mark.django_db
def test_ordinary_title_with_mi_is_accepted(as_):
    response = as_("bob").post(
        "/api/v1/documents/", {**DRAFT, "title": "关于任命秘书长的通知"}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", [{"title": "绝密 关于某事项的请示"}, {"header_text": "机密"}, {"classification": "x"}]
)
def test_edit_with_a_marking_is_refused_and_nothing_changes(as_, draft, change):
    doc = draft("bob")
    response = as_("bob").patch(f"/api/v1/documents/{doc['id']}/", change, format="json")
    assert response.status_code == 422 and code(response) == "classified_refused"
    stored = Document.objects.get(pk=doc["id"])
    assert stored.version == 1 and stored.title == DRAFT["title"] and stored.header_text == ""
    (event,) = events("document.classified_refused", "denied")
    assert event.detail["where"] == "update" and event.object_id == str(doc["id"])


@pytest.mark.django_db
def test_attachment_named_with_a_marking_is_refused(as_, draft, attachment_dir):
    doc = draft("bob")
    upload = SimpleUploadedFile("秘密★1年-方案.pdf", PDF, content_type="application/pdf")
    response = as_("bob").post(
        f"/api/v1/documents/{doc['id']}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 422 and code(response) == "classified_refused"
    assert Attachment.objects.count() == 0
    assert not attachment_dir.exists() or not any(p.is_file() for p in attachment_dir.rglob("*"))
    (event,) = events("document.classified_refused", "denied")
    assert event.detail["where"] == "attachment" and event.detail["field"] == "filename"


@pytest.mark.django_db
def test_the_database_refuses_a_classified_row(org, personas):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(
            direction="outgoing",
            title="t",
            doc_type="notice",
            classification="secret",
            unit=org.office,
            drafter=personas["bob"],
        )
