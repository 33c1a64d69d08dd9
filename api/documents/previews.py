"""Attachment previews: Word, Excel, PowerPoint and WPS files readable on a phone.

Docs: docs/reading-on-phones.md#attachment-previews.

The ONE shared helper for previewing an uploaded file (documents' attachments here;
mail, submissions and other modules reuse it with their own files). A file is named by
its SHA-256, so a preview is made once per content whoever uploaded it:

1. ``request_preview(path, sha256, kind)`` marks it pending and enqueues
   ``api.documents.previews.convert_preview`` after commit;
2. the task converts it to PDF with LibreOffice headless (``soffice --convert-to pdf``)
   under a time limit, in a throw-away profile (``-env:UserInstallation`` in a
   temporary directory, its own HOME, a new process group killed on timeout), with the
   import filter fixed by the file's detected kind — so a corrupt file is refused by
   the filter instead of being read as text;
3. the PDF's pages become images and text with the document page pipeline
   (``api.documents.pages.pdf_page_image`` / ``pdf_page_text``).

Everything lives under ``GOVDESK_RENDER_DIR/previews/<sha[:2]>/<sha>/``: ``preview.pdf``,
the page cache and ``state.json`` (``pending`` → ``ready`` with ``page_count``, or
``failed`` with a reason: the "cannot preview" state). The original file is never
changed and stays downloadable. The task is safe to run twice (a settled state is kept).

Once ready, the task also scans the preview's page text for classification markings
(``scan_markings``: ``scan.json`` beside ``state.json``, made once per content), so
the classification guard (api/documents/content_guard.py) has its verdict before the
document is submitted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from api.common.enqueue import enqueue_after_commit
from api.common.errors import ApiError
from api.documents import pages
from api.documents.classification import find_content_marking

logger = logging.getLogger(__name__)

# Detected kind → LibreOffice import filter and the extension the input is given.
FILTERS: dict[str, tuple[str, str]] = {
    "docx": ("MS Word 2007 XML", "docx"),
    "xlsx": ("Calc MS Excel 2007 XML", "xlsx"),
    "pptx": ("Impress MS PowerPoint 2007 XML", "pptx"),
    "doc": ("MS Word 97", "doc"),
    "xls": ("MS Excel 97", "xls"),
    "ppt": ("MS PowerPoint 97", "ppt"),
    "wps": ("MS Word 97", "wps"),  # WPS 文字 (.wps) is a Word 97 binary
    "et": ("MS Excel 97", "et"),  # WPS 表格
    "dps": ("MS PowerPoint 97", "dps"),  # WPS 演示
    "odt": ("writer8", "odt"),
    "ods": ("calc8", "ods"),
    "odp": ("impress8", "odp"),
}
PREVIEWABLE = frozenset(FILTERS) | {"pdf"}
MAX_PAGES = 200  # a larger conversion is shown as cannot preview (the file downloads)
STALE_PENDING = 600  # seconds: a pending mark older than this is sent again
KILL_WAIT_STEPS = 40  # × 0.05 s: how long a killed converter's group may take to go


def convert_timeout() -> int:
    """Seconds LibreOffice may take for one file (GOVDESK_PREVIEW_TIMEOUT, default 60)."""
    return int(getattr(settings, "GOVDESK_PREVIEW_TIMEOUT", 60))


def soffice() -> str:
    return str(getattr(settings, "GOVDESK_SOFFICE", "soffice"))


def preview_dir(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return Path(settings.GOVDESK_RENDER_DIR) / "previews" / sha256[:2] / sha256


def pdf_of(sha256: str) -> Path:
    return preview_dir(sha256) / "preview.pdf"


def _state_file(sha256: str) -> Path:
    return preview_dir(sha256) / "state.json"


def state(sha256: str) -> dict:
    """``{"state": "none" | "pending" | "ready" | "failed", ...}``."""
    try:
        return json.loads(_state_file(sha256).read_text())
    except (OSError, ValueError):
        return {"state": "none"}


def _write_state(sha256: str, **values) -> dict:
    target = _state_file(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(values))
    os.replace(tmp, target)
    return values


def request_preview(source: Path, sha256: str, kind: str) -> dict:
    """The preview's state; a file not yet (or no longer) being converted is sent to
    the converter. Unpreviewable kinds are ``failed`` at once (reason ``unsupported``)."""
    current = state(sha256)
    if current["state"] in ("ready", "failed"):
        return current
    if kind not in PREVIEWABLE:
        return _write_state(sha256, state="failed", reason="unsupported", kind=kind)
    if current["state"] == "pending" and time.time() - current.get("since", 0) < STALE_PENDING:
        return current
    current = _write_state(sha256, state="pending", since=time.time(), kind=kind)
    enqueue_after_commit("api.documents.previews.convert_preview", str(source), sha256, kind)
    return current


def _page_count(pdf: Path) -> int:
    try:
        out = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            ["pdfinfo", str(pdf)],  # noqa: S607 (poppler-utils from Debian, on PATH)
            capture_output=True,
            timeout=30,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 0


def _run_soffice(args: list[str], work: Path, timeout: int) -> str | None:
    """Run LibreOffice in its own process group; None when it finished, else a reason."""
    env = {
        "HOME": str(work),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(work),
        "SAL_USE_VCLPLUGIN": "svp",
    }
    try:
        proc = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            args,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        logger.error("attachment preview: cannot start %s: %s", args[0], exc)
        return "converter_missing"
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        logger.warning("attachment preview: LibreOffice took longer than %ss", timeout)
        return "timeout"
    except BaseException:  # the task's own soft limit: never leave LibreOffice behind
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        logger.warning(
            "attachment preview: LibreOffice exited %s: %s",
            proc.returncode,
            (output or b"")[-500:].decode("utf-8", "replace"),
        )
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # SIGKILL lands when each member is next scheduled; on a busy machine a child can
    # outlive the shell by a moment. Wait (bounded) until the group is gone, so a caller
    # never sees a converter still running. A killed orphan lingers only as a zombie
    # until init reaps it, hence the bound.
    for _ in range(KILL_WAIT_STEPS):
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def convert(source: Path, sha256: str, kind: str) -> dict:
    """Make the preview PDF of ``source`` and record the outcome (see the module doc)."""
    if kind not in PREVIEWABLE:
        return _write_state(sha256, state="failed", reason="unsupported", kind=kind)
    target = pdf_of(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="govdesk-preview-") as tmp:
        work = Path(tmp)
        if kind == "pdf":
            produced = work / "input.pdf"
            shutil.copyfile(source, produced)
        else:
            infilter, ext = FILTERS[kind]
            given = work / f"input.{ext}"
            shutil.copyfile(source, given)
            profile = work / "profile"
            reason = _run_soffice(
                [
                    soffice(),
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--invisible",
                    "--norestore",
                    "--nolockcheck",
                    "--nodefault",
                    "--nologo",
                    f"--infilter={infilter}",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(work / "out"),
                    str(given),
                ],
                work,
                convert_timeout(),
            )
            if reason:
                return _write_state(sha256, state="failed", reason=reason, kind=kind)
            produced = work / "out" / "input.pdf"
        count = _page_count(produced) if produced.is_file() else 0
        if count == 0:
            return _write_state(sha256, state="failed", reason="not_convertible", kind=kind)
        if count > MAX_PAGES:
            return _write_state(sha256, state="failed", reason="too_many_pages", kind=kind)
        os.replace(produced, target)
    return _write_state(sha256, state="ready", page_count=count, kind=kind)


def _scan_file(sha256: str) -> Path:
    return preview_dir(sha256) / "scan.json"


def scan_markings(sha256: str) -> dict:
    """The classification-marking scan of a preview's page text: ``{"state": "clean"}``,
    ``{"state": "flagged", "page", "rule", "marking"}`` (the first hit), ``{"state":
    "pending"}`` while the preview is not ready, or ``{"state": "unchecked", "reason"}``
    when it cannot be previewed (or its text cannot be read). A verdict is kept in
    ``scan.json`` (content-addressed, so it never goes stale)."""
    try:
        return json.loads(_scan_file(sha256).read_text())
    except (OSError, ValueError):
        pass
    current = state(sha256)
    if current["state"] == "failed":
        return {"state": "unchecked", "reason": current.get("reason", "failed")}
    if current["state"] != "ready":
        return {"state": "pending"}
    verdict: dict = {"state": "clean"}
    try:
        for page in range(1, int(current.get("page_count", 0)) + 1):
            found = find_content_marking(page_text(sha256, page))
            if found:
                rule, text, _line = found
                verdict = {"state": "flagged", "page": page, "rule": rule, "marking": text}
                break
    except ApiError:  # pdftotext missing or failed (logged by pages): try again later
        return {"state": "unchecked", "reason": "text_unavailable"}
    target = _scan_file(sha256)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(verdict))
    os.replace(tmp, target)
    return verdict


def forget(sha256: str) -> None:
    """Remove everything made for this content (a refused upload's preview)."""
    shutil.rmtree(preview_dir(sha256), ignore_errors=True)


def page_image(sha256: str, page: int, width: int, fmt: str) -> Path:
    cache = preview_dir(sha256) / "pages"
    return pages.pdf_page_image(pdf_of(sha256), cache, sha256, page, width, fmt)


def page_text(sha256: str, page: int) -> str:
    return pages.pdf_page_text(pdf_of(sha256), preview_dir(sha256) / "pages", sha256, page)


@shared_task(
    name="api.documents.previews.convert_preview",
    soft_time_limit=convert_timeout() + 30,
    time_limit=convert_timeout() + 60,
)
def convert_preview(source: str, sha256: str, kind: str) -> dict:
    """Convert one file for preview and scan its text for classification markings; a
    settled state (ready / failed) is kept."""
    current = state(sha256)
    if current["state"] == "ready":
        scan_markings(sha256)
    if current["state"] in ("ready", "failed"):
        return current
    path = Path(source)
    if not path.is_file():
        logger.warning("convert_preview: %s is missing", source)
        return _write_state(sha256, state="failed", reason="missing", kind=kind)
    try:
        result = convert(path, sha256, kind)
        if result["state"] == "ready":
            scan_markings(sha256)
        return result
    except SoftTimeLimitExceeded:
        return _write_state(sha256, state="failed", reason="timeout", kind=kind)
