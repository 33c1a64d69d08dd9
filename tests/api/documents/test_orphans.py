"""No orphaned upload data (docs/documents.md#orphans): temp files and ``.part`` files
are removed on failure and by the sweep — also after a worker is killed mid-upload."""

from __future__ import annotations

import os
import socket
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from api.accounts.tokens import issue_tokens, open_session
from api.documents.models import Attachment
from api.documents.orphans import sweep
from tests.conftest import requires_postgres
from tests.live_web import LiveWeb

pytestmark = pytest.mark.django_db


def _files(path) -> list:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def test_sweep_removes_old_leftovers_only(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    settings.GOVDESK_ATTACHMENT_DIR = tmp_path / "attachments"
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    old = time.time() - 7200
    leftovers = [
        tmp_path / "upload-tmp" / "tmpabc.upload",
        tmp_path / "attachments" / "ab" / "cd" / ("ab" * 20 + ".part"),
        tmp_path / "rendered" / "7" / "tmpx.part",
        tmp_path / "attachments" / "ef" / "01" / ("ef" * 20),  # no row: never committed
    ]
    fresh = tmp_path / "upload-tmp" / "tmpnew.upload"  # a request may still be writing it
    for path in [*leftovers, fresh]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in leftovers:
        os.utime(path, (old, old))
    assert sweep() == {"upload_temp": 1, "partial": 2, "unreferenced": 1}
    assert [p.exists() for p in leftovers] == [False] * 4
    assert fresh.exists()
    assert sweep() == {"upload_temp": 0, "partial": 0, "unreferenced": 0}


def test_a_refused_large_upload_leaves_no_temp_file(as_, draft, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # spool to disk
    doc = draft("bob")
    data = b"MZ" + b"\x00" * 200_000  # an executable: refused
    response = as_("bob").post(
        f"/api/v1/documents/{doc['id']}/attachments/",
        {"file": SimpleUploadedFile("setup.pdf", data)},
        format="multipart",
    )
    assert response.status_code == 415
    assert _files(tmp_path / "upload-tmp") == []
    assert Attachment.objects.count() == 0


@requires_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_upload_leaves_nothing_after_restart(personas, draft, tmp_path):
    """gunicorn SIGKILLed while a 4 MB upload is half sent: its spooled temp file is an
    orphan; the start-up sweep of the next gunicorn removes it."""
    doc = draft("bob")
    bob = personas["bob"]
    access = issue_tokens(bob, open_session(bob, device_name="kill-test")).access
    var = tmp_path / "var"
    web = LiveWeb(var, workers=1, threads=2, GOVDESK_ORPHAN_MAX_AGE_SECONDS="0")
    web.start()
    temp_dir = var / "upload-tmp"
    try:
        boundary = "----govdesk-kill"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        total = len(head) + 4_000_000 + len(f"\r\n--{boundary}--\r\n")
        sock = socket.create_connection(("127.0.0.1", web.port))
        sock.sendall(
            (
                f"POST /api/v1/documents/{doc['id']}/attachments/ HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: Bearer {access}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {total}\r\n\r\n"
            ).encode()
            + head
            + b"%PDF-1.4\n"
            + b"%" * 3_000_000
        )
        deadline = time.monotonic() + 30
        while not _files(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        spooled = _files(temp_dir)
        assert spooled, "the upload never reached the temp dir"
        web.kill()  # mid-upload: the rest of the body never arrives
        sock.close()
        assert [p.exists() for p in spooled] == [True] * len(spooled)  # orphaned
        assert Attachment.objects.count() == 0
        web.start()  # the start-up sweep
        assert [p.exists() for p in spooled] == [False] * len(spooled)
    finally:
        web.stop()
    assert settings.FILE_UPLOAD_TEMP_DIR  # the suite's own dir is untouched
