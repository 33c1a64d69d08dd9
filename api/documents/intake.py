"""Uploads checked by what they become: the one gate every stored upload passes.

Docs: docs/documents.md#attachments and docs/security.md#uploads. ``accept(stream,
size, name)`` decides the type from the content (``attachments.detect``), checks the
extension agrees, and then checks what the file *becomes* when opened, before a
single byte is stored:

* **ZIP containers** (DOCX/XLSX/PPTX/OFD): at most GOVDESK_UPLOAD_ZIP_MAX_ENTRIES
  entries; every entry is really inflated (the headers' sizes can lie), stopping at
  GOVDESK_UPLOAD_ZIP_MAX_INFLATED bytes in all; the inflated total may be at most
  GOVDESK_UPLOAD_ZIP_MAX_RATIO times the file's size. 422 ``upload_bomb``.
* **Images** (PNG/JPEG/WebP): the pixel count from the header, before decoding, at
  most GOVDESK_UPLOAD_MAX_PIXELS, and Pillow's decompression-bomb warning is an
  error — the same check as instruction and seal images. 422 ``upload_bomb``.
* **PDFs**: **refused, not neutralised**, when they carry active content — JavaScript
  (``/JavaScript``, ``/JS``), an automatic action (``/OpenAction`` with an action
  dictionary, ``/AA``), ``/Launch``, embedded files (``/EmbeddedFile(s)``),
  ``/RichMedia`` or XFA forms (``/XFA``) — found in the file and in its inflated
  streams (object streams hide dictionaries), names with ``#xx`` escapes decoded.
  422 ``upload_active_content`` with ``feature``.
* **Polyglots**: a PDF or image that also reads as HTML/script (``<html``,
  ``<script``, ``<!doctype``, ``<iframe``, ``<body`` anywhere), or a PDF with
  anything but whitespace after its last ``%%EOF``. 422 ``upload_polyglot``.

Nothing is written on a refusal: the view's upload temp file is removed with the
request (and by the orphan sweep after a crash, api/common/orphans.py).
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from typing import IO

from django.conf import settings
from PIL import Image

from api.common.errors import ApiError
from api.documents import attachments as files

_CHUNK = 1 << 16
_POLYGLOT_MARKERS = (b"<html", b"<script", b"<!doctype", b"<iframe", b"<body")
_PDF_ACTIVE = {
    b"javascript": "JavaScript",
    b"js": "JavaScript",
    b"launch": "Launch",
    b"embeddedfile": "EmbeddedFiles",
    b"embeddedfiles": "EmbeddedFiles",
    b"richmedia": "RichMedia",
    b"xfa": "XFA",
    b"aa": "AA",
}
# A PDF name: '/' then regular characters (delimiters and whitespace end it).
_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_OPEN_ACTION = re.compile(rb"/OpenAction\s*(<<|\d+\s+\d+\s+R)")
_STREAM = re.compile(rb"stream\r?\n")
_IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def _refuse(code: str, **extra) -> ApiError:
    return ApiError(code, status_code=422, extra=extra)


def _read_all(stream: IO[bytes]) -> bytes:
    stream.seek(0)
    data = stream.read()
    stream.seek(0)
    return data


# --- ZIP containers -------------------------------------------------------------------------


def check_zip(stream: IO[bytes], size: int) -> None:
    max_entries = settings.GOVDESK_UPLOAD_ZIP_MAX_ENTRIES
    max_total = settings.GOVDESK_UPLOAD_ZIP_MAX_INFLATED
    max_ratio = settings.GOVDESK_UPLOAD_ZIP_MAX_RATIO
    limit = min(max_total, max(size, 1) * max_ratio)
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            if len(entries) > max_entries:
                raise _refuse("upload_bomb", reason="entries", limit=max_entries)
            if sum(e.file_size for e in entries) > limit:
                raise _refuse("upload_bomb", reason="inflated_size", limit=limit)
            inflated = 0
            for entry in entries:
                with archive.open(entry) as member:
                    while chunk := member.read(_CHUNK):
                        inflated += len(chunk)
                        if inflated > limit:
                            raise _refuse("upload_bomb", reason="inflated_size", limit=limit)
    except ApiError:
        raise
    except Exception:  # a corrupt or lying archive (bad CRC, truncated) is refused
        raise ApiError("attachment_type_refused", status_code=415) from None
    finally:
        stream.seek(0)


# --- Images -----------------------------------------------------------------------------------


def check_image(stream: IO[bytes], kind: str) -> None:
    max_pixels = settings.GOVDESK_UPLOAD_MAX_PIXELS
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=[_IMAGE_FORMATS[kind]]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise _refuse("upload_bomb", reason="pixels", limit=max_pixels)
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("upload_bomb", reason="pixels", limit=max_pixels) from None
    except Exception:
        raise ApiError("attachment_type_refused", status_code=415) from None
    finally:
        stream.seek(0)


# --- PDFs ------------------------------------------------------------------------------------


def _unescape_name(raw: bytes) -> bytes:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def _inflated_streams(data: bytes, budget: int):
    """The content of each Flate stream, inflated up to ``budget`` bytes in all."""
    for match in _STREAM.finditer(data):
        if budget <= 0:
            return
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data[match.end() : match.end() + budget], budget)
        except zlib.error:
            continue
        budget -= len(out)
        yield out


def _active_feature(data: bytes) -> str | None:
    for name in _NAME.findall(data):
        feature = _PDF_ACTIVE.get(_unescape_name(name).lower())
        if feature is not None:
            return feature
    if _OPEN_ACTION.search(re.sub(rb"#4[fF]", b"O", data)):
        return "OpenAction"
    return None


def check_pdf(data: bytes) -> None:
    feature = _active_feature(data)
    if feature is None:
        budget = settings.GOVDESK_UPLOAD_ZIP_MAX_INFLATED
        for inflated in _inflated_streams(data, budget):
            feature = _active_feature(inflated)
            if feature is not None:
                break
    if feature is not None:
        raise _refuse("upload_active_content", feature=feature)
    end = data.rfind(b"%%EOF")
    if end < 0 or data[end + 5 :].strip():
        raise _refuse("upload_polyglot", reason="data_after_eof")


def _check_polyglot(data: bytes) -> None:
    lowered = data.lower()
    if any(marker in lowered for marker in _POLYGLOT_MARKERS):
        raise _refuse("upload_polyglot", reason="markup")


# --- The gate -------------------------------------------------------------------------------


def accept(stream: IO[bytes], size: int, name: str) -> files.FileType:
    """The file's accepted type, or an ApiError: 415 ``attachment_type_refused`` (type
    not accepted or not matching the extension), 422 ``upload_bomb`` /
    ``upload_active_content`` / ``upload_polyglot``."""
    file_type = files.detect(stream, size)
    extension = files.extension_of(name)
    if file_type is None or extension not in file_type.extensions:
        raise ApiError(
            "attachment_type_refused",
            status_code=415,
            extra={"detected": file_type.kind if file_type else None, "extension": extension},
        )
    if file_type.kind in ("docx", "xlsx", "pptx", "ofd"):
        check_zip(stream, size)
    elif file_type.kind in _IMAGE_FORMATS:
        check_image(stream, file_type.kind)
        _check_polyglot(_read_all(stream))
    elif file_type.kind == "pdf":
        data = _read_all(stream)
        _check_polyglot(data)
        check_pdf(data)
    stream.seek(0)
    return file_type
