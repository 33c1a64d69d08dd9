"""Attachment previews: Word and Excel files become page images and text; a corrupt
file is "cannot preview" and a converter that hangs is stopped at its limit
(docs/reading-on-phones.md#attachment-previews). LibreOffice headless runs for real."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.documents import attachments as files
from api.documents import previews
from api.documents.models import Attachment
from tests.api.documents.previews import office_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def render_dir(settings, tmp_path):
    for tool in ("soffice", "pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (.ci/run installs LibreOffice and poppler)")
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    return settings.GOVDESK_RENDER_DIR


@pytest.fixture
def sent():
    """Tasks enqueued after commit, by name and arguments (the worker is played below)."""
    calls: list[tuple] = []
    with (
        mock.patch.object(previews, "enqueue_after_commit", lambda *a: calls.append(a)),
        mock.patch("api.documents.actions.enqueue_after_commit", lambda *a: calls.append(a)),
    ):
        yield calls


def upload(client, doc_id: int, name: str, data: bytes) -> dict:
    response = client.post(
        f"/api/v1/documents/{doc_id}/attachments/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def run_worker(calls: list[tuple]) -> None:
    for name, *args in calls:
        assert name == "api.documents.previews.convert_preview"
        previews.convert_preview(*args)
    calls.clear()


def preview_url(doc_id: int, attachment_id: int) -> str:
    return f"/api/v1/documents/{doc_id}/attachments/{attachment_id}/preview/"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "冬季值班安排.docx",
            office_files.docx(["关于冬季值班安排的说明", "值班时间为每日八时至次日八时。"]),
            "值班时间为每日八时至次日八时",
        ),
        (
            "值班表.xlsx",
            office_files.xlsx([["日期", "值班领导"], ["12月7日", "李明"]]),
            "值班领导",
        ),
    ],
)
def test_word_and_excel_become_page_images_and_text(as_, draft, sent, name, data, expected):
    client = as_("bob")
    doc = draft("bob")
    attachment = upload(client, doc["id"], name, data)
    assert [c[0] for c in sent] == ["api.documents.previews.convert_preview"]  # on upload

    first = client.get(preview_url(doc["id"], attachment["id"]))
    assert first.status_code == 200
    assert first.json()["state"] == "pending" and first.json()["pages"] == []
    run_worker(sent)

    ready = client.get(preview_url(doc["id"], attachment["id"])).json()
    assert ready["state"] == "ready" and ready["page_count"] >= 1
    page = ready["pages"][0]
    image = client.get(page["image_urls"]["360"], HTTP_ACCEPT="image/png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
    text = client.get(page["text_url"]).json()["text"]
    assert expected in text.replace(" ", "")
    # The original is untouched and still downloads.
    download = client.get(ready["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == data


def test_the_preview_task_flags_a_marked_word_file_and_names_the_page(as_, draft, sent):
    """The classification guard reads the text the preview extracted
    (docs/documents.md#classification-markings-in-content)."""
    client = as_("bob")
    doc = draft("bob")
    data = office_files.docx(["关于调整值班安排的通知", "密级：机密★5年", "各单位："])
    attachment = upload(client, doc["id"], "值班.docx", data)
    pending = client.get(preview_url(doc["id"], attachment["id"])).json()
    assert pending["content_check"] == {"state": "pending"}
    run_worker(sent)
    check = client.get(preview_url(doc["id"], attachment["id"])).json()["content_check"]
    assert check["state"] == "flagged" and check["page"] == 1
    clean = upload(client, doc["id"], "清单.docx", office_files.docx(["保守国家秘密，人人有责。"]))
    run_worker(sent)
    check = client.get(preview_url(doc["id"], clean["id"])).json()["content_check"]
    assert check == {"state": "clean"}


def test_a_corrupt_file_cannot_be_previewed_and_still_downloads(as_, draft, sent):
    client = as_("bob")
    doc = draft("bob")
    data = office_files.corrupt_docx()
    attachment = upload(client, doc["id"], "损坏.docx", data)
    client.get(preview_url(doc["id"], attachment["id"]))
    run_worker(sent)

    answer = client.get(preview_url(doc["id"], attachment["id"])).json()
    assert answer["state"] == "failed" and answer["pages"] == []
    assert answer["reason"] == "not_convertible"
    page = client.get(preview_url(doc["id"], attachment["id"]) + "pages/1/text/")
    assert page.status_code == 404 and page.json()["error"]["code"] == "preview_not_ready"
    download = client.get(answer["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == data
    # Settled: asking again sends nothing more.
    client.get(preview_url(doc["id"], attachment["id"]))
    assert sent == []


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits for init to reap it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def test_a_converter_that_hangs_is_stopped_at_its_limit(as_, draft, sent, settings, tmp_path):
    # A stand-in for soffice that never finishes and leaves a child behind, as a
    # LibreOffice stuck on a hostile file would: the conversion gives up at the limit,
    # kills the whole process group and says "cannot preview".
    pid_file = tmp_path / "child.pid"
    hang = tmp_path / "soffice"
    hang.write_text(f"#!/bin/sh\nsleep 600 &\necho $! > {pid_file}\nwait\n")
    hang.chmod(hang.stat().st_mode | stat.S_IEXEC)
    settings.GOVDESK_SOFFICE = str(hang)
    settings.GOVDESK_PREVIEW_TIMEOUT = 1

    client = as_("bob")
    doc = draft("bob")
    attachment = upload(client, doc["id"], "方案.docx", office_files.docx(["正文"]))
    row = Attachment.objects.get(pk=attachment["id"])
    outcome = previews.convert_preview(str(files.path_for(row.storage_key)), row.sha256, "docx")
    assert outcome["state"] == "failed" and outcome["reason"] == "timeout"
    assert not _running(int(pid_file.read_text()))  # nothing of the converter is left
    answer = client.get(preview_url(doc["id"], attachment["id"])).json()
    assert answer["state"] == "failed" and answer["reason"] == "timeout"


def test_the_profile_is_a_fresh_temporary_one(as_, draft, sent, tmp_path):
    client = as_("bob")
    doc = draft("bob")
    attachment = upload(client, doc["id"], "a.docx", office_files.docx(["一"]))
    row = Attachment.objects.get(pk=attachment["id"])
    seen: list[list[str]] = []
    real = previews._run_soffice

    def spy(args, work, timeout):
        seen.append(args)
        return real(args, work, timeout)

    with mock.patch.object(previews, "_run_soffice", spy):
        previews.convert(Path(files.path_for(row.storage_key)), row.sha256, "docx")
    profile = next(a for a in seen[0] if a.startswith("-env:UserInstallation="))
    profile_dir = Path(profile.split("file://", 1)[1])
    assert profile_dir.name == "profile" and profile_dir.parent.name.startswith("govdesk-preview-")
    assert not profile_dir.exists()  # thrown away with the conversion
    assert "--infilter=MS Word 2007 XML" in seen[0]
