"""No orphaned upload data: the sweep of leftovers a crash leaves behind.

Docs: docs/documents.md#orphans. What a killed web process can leave:

* Django's upload temp files (uploads over FILE_UPLOAD_MAX_MEMORY_SIZE are spooled
  to FILE_UPLOAD_TEMP_DIR — GOVDESK_UPLOAD_TEMP_DIR, a private directory, not /tmp);
* ``.part`` files of attachments and renderings being written (``attachments.store``,
  ``rendering.actions._write_once``);
* a complete attachment file whose database row never committed.

On failure inside a request these are removed at once (the temp file with the
request, ``.part`` and unreferenced files by the code that wrote them). After a crash,
``sweep()`` removes any that is older than GOVDESK_ORPHAN_MAX_AGE_SECONDS — old enough
that no live request can still be writing it. It runs every 15 minutes from beat
(``api.documents.tasks.sweep_orphans``) and at start-up of every web process
(api/wsgi.py) and worker (``worker_ready``). Safe to run twice and concurrently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def _old_files(root: Path, pattern: str, cutoff: float) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in root.rglob(pattern):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                yield path
        except OSError:  # removed meanwhile
            continue


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def ensure_upload_temp_dir() -> None:
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)


def sweep(max_age_seconds: float | None = None, now: float | None = None) -> dict[str, int]:
    """Remove orphans older than ``max_age_seconds``; returns counts per kind."""
    from api.documents.models import Attachment

    age = settings.GOVDESK_ORPHAN_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds
    cutoff = (time.time() if now is None else now) - age
    removed = {"upload_temp": 0, "partial": 0, "unreferenced": 0}
    for path in _old_files(Path(settings.FILE_UPLOAD_TEMP_DIR), "*", cutoff):
        removed["upload_temp"] += _remove(path)
    for root in (Path(settings.GOVDESK_ATTACHMENT_DIR), Path(settings.GOVDESK_RENDER_DIR)):
        for path in _old_files(root, "*.part", cutoff):
            removed["partial"] += _remove(path)
    candidates = [
        p
        for p in _old_files(Path(settings.GOVDESK_ATTACHMENT_DIR), "*", cutoff)
        if not p.name.endswith(".part") and len(p.name) == 40
    ]
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        known = set(
            Attachment.objects.filter(storage_key__in=[p.name for p in batch]).values_list(
                "storage_key", flat=True
            )
        )
        for path in batch:
            if path.name not in known:
                removed["unreferenced"] += _remove(path)
    if any(removed.values()):
        logger.info("orphan sweep removed %s", removed)
    return removed


def sweep_at_start_up() -> None:
    """Start-up of a web process or worker: never fails the start."""
    try:
        ensure_upload_temp_dir()
        sweep()
    except Exception:  # the database may not be migrated yet; beat sweeps later
        logger.exception("orphan sweep at start-up failed")
