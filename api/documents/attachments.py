"""Attachment content checks and storage. Docs: docs/documents.md#attachments.

The type is decided from the content (magic bytes, and for ZIP containers the
entries inside), never from the client's Content-Type; the file name's extension
must agree with it. Accepted: PDF, OFD (a ZIP with OFD.xml), DOCX/XLSX/PPTX (a ZIP
with [Content_Types].xml and the matching part folder, no macros), PNG, JPEG, WebP
and plain text (UTF-8, or GB18030 as Chinese Windows writes it). Everything else —
executables, scripts, HTML, SVG/XML, macro-enabled Office files, archives — is refused.

Files are written under GOVDESK_ATTACHMENT_DIR (outside the web root; see
api/documents/checks.py) by a random name in two levels of fan-out directories,
with the SHA-256 computed while copying.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings


@dataclass(frozen=True)
class FileType:
    kind: str
    content_type: str
    extensions: tuple[str, ...]


TYPES: dict[str, FileType] = {
    t.kind: t
    for t in (
        FileType("pdf", "application/pdf", ("pdf",)),
        FileType("ofd", "application/ofd", ("ofd",)),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("docx",),
        ),
        FileType(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)
        ),
        FileType(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ("pptx",),
        ),
        FileType("png", "image/png", ("png",)),
        FileType("jpeg", "image/jpeg", ("jpg", "jpeg")),
        FileType("webp", "image/webp", ("webp",)),
        FileType("text", "text/plain; charset=utf-8", ("txt",)),
    )
}

GB18030_TEXT = FileType("text", "text/plain; charset=gb18030", ("txt",))
_OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
# Text that a browser or a shell could treat as active content.
_ACTIVE_TEXT = (b"<script", b"<html", b"<svg", b"<!doctype", b"<?xml", b"<iframe", b"<body")
_HEAD_BYTES = 65_536


def _zip_kind(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
            if len(names) > 10_000:
                return None
            lowered = {n.lower() for n in names}
            if "ofd.xml" in lowered:
                return "ofd"
            if "[content_types].xml" not in lowered:
                return None
            if any(n.endswith("vbaproject.bin") for n in lowered):
                return None  # macros
            info = archive.getinfo(next(n for n in names if n.lower() == "[content_types].xml"))
            if info.file_size > 1_048_576:
                return None
            types = archive.read(info).lower()
            if b"macroenabled" in types:
                return None
            for kind, folder in _OOXML_PARTS.items():
                if any(n.startswith(folder) for n in lowered):
                    return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, StopIteration, ValueError):
        return None
    except Exception:  # a malformed archive must never become a 500
        return None
    return None


def _decode(data: bytes, encoding: str, complete: bool) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is fine.
        if complete or exc.start < len(data) - 4:
            return None
        return data[: exc.start].decode(encoding, errors="replace")


def _text_encoding(head: bytes, complete: bool) -> str | None:
    """'utf-8' or 'gb18030' (Chinese Windows text files) when ``head`` is plain text
    with no control characters and nothing a browser or shell would run; else None."""
    data = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if not data:
        return None
    for encoding in ("utf-8", "gb18030"):
        text = _decode(data, encoding, complete)
        if text is not None:
            break
    else:
        return None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text) or "\x7f" in text:
        return None
    lowered = data.lower()
    if text.lstrip().startswith(("<", "#!")) or any(t in lowered for t in _ACTIVE_TEXT):
        return None
    return encoding


def detect(stream: IO[bytes], size: int) -> FileType | None:
    """The accepted type of the file's content, or None when it is not accepted."""
    stream.seek(0)
    head = stream.read(_HEAD_BYTES)
    stream.seek(0)
    kind: str | None = None
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "webp"
    elif head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(stream)
        stream.seek(0)
    else:
        encoding = _text_encoding(head, complete=size <= _HEAD_BYTES)
        if encoding == "gb18030":
            return GB18030_TEXT
        kind = "text" if encoding else None
    return TYPES[kind] if kind else None


def extension_of(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    return base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def clean_name(name: str) -> str:
    """The file name without any directory part, control characters or NULs."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(c for c in base if c.isprintable())
    return base.strip()[:255]


def root() -> Path:
    return Path(settings.GOVDESK_ATTACHMENT_DIR)


def path_for(storage_key: str) -> Path:
    return root() / storage_key[:2] / storage_key[2:4] / storage_key


def store(chunks: Iterable[bytes]) -> tuple[str, str, int]:
    """Write ``chunks`` to a new random file; returns (storage_key, sha256, size)."""
    key = secrets.token_hex(20)
    target = path_for(key)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    digest = hashlib.sha256()
    size = 0
    temporary = target.with_name(target.name + ".part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return key, digest.hexdigest(), size


def discard(storage_key: str) -> None:
    path_for(storage_key).unlink(missing_ok=True)
