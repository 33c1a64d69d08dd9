"""A post's attachments and cover image. Docs: docs/publishing.md#attachments-and-cover.

Attachments go through the documents' attachment store and content checks
(api/documents/attachments.py: type from the content, extension must agree, refused
types, size limit) and the classification guard on the file name; their text (plain
text, DOCX paragraphs, PDF text via poppler's pdftotext) is kept for search. The cover
is decoded by Pillow, turned upright (EXIF), stripped of metadata and re-encoded as
JPEG in two sizes (at most 1200 px, and a 360×240 thumbnail).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from typing import IO

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from api.accounts.models import User
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Forbidden
from api.documents import attachments as store
from api.documents.actions import check_upload, refuse_if_classified
from api.publishing import selectors
from api.publishing.actions.posts import _lock, refresh_search
from api.publishing.models import Post, PostAttachment, PostState

MAX_TEXT_CHARS = 200_000
COVER_MAX = (1200, 1200)
COVER_THUMB = (360, 240)
COVER_KINDS = frozenset({"png", "jpeg", "webp"})
MAX_COVER_PIXELS = 40_000_000
_XML_TEXT = re.compile(r"<w:t[^>]*>([^<]*)</w:t>|</w:p>")


def _require_editor(actor: User, post: Post, action: str) -> None:
    if selectors.is_publisher(actor, post.author_unit):
        return
    if post.author_id == actor.pk and post.state in (PostState.DRAFT, PostState.RETURNED):
        return
    record_denied(action, actor=actor, obj=post, detail={"reason": "not_editor"})
    raise Forbidden()


def _checked(upload: UploadedFile) -> tuple[str, store.FileType]:
    name = store.clean_name(upload.name or "")
    return name, check_upload(upload, name)


def extract_text(kind: str, content_type: str, stream: IO[bytes] | UploadedFile) -> str:
    """What search indexes of a file; empty when nothing can be read from it."""
    stream.seek(0)
    if kind == "text":
        encoding = "gb18030" if "gb18030" in content_type else "utf-8"
        return stream.read(MAX_TEXT_CHARS * 4).decode(encoding, "replace")[:MAX_TEXT_CHARS]
    if kind == "docx":
        try:
            with zipfile.ZipFile(stream) as archive:
                xml = archive.read("word/document.xml").decode("utf-8", "replace")
        except (zipfile.BadZipFile, KeyError, OSError):
            return ""
        pieces = [m.group(1) if m.group(1) is not None else "\n" for m in _XML_TEXT.finditer(xml)]
        return "".join(pieces)[:MAX_TEXT_CHARS]
    if kind == "pdf" and shutil.which("pdftotext"):
        try:
            result = subprocess.run(
                ["pdftotext", "-q", "-enc", "UTF-8", "-", "-"],  # noqa: S607
                input=stream.read(),
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return result.stdout.decode("utf-8", "replace")[:MAX_TEXT_CHARS]
    return ""


def add_attachment(post_id: int, actor: User, upload: UploadedFile) -> PostAttachment:
    post = selectors.post_or_404(actor, post_id, "post.attachment_add")
    _require_editor(actor, post, "post.attachment_add")
    name, file_type = _checked(upload)
    refuse_if_classified(actor, {"filename": name}, "post_attachment")
    text = extract_text(file_type.kind, file_type.content_type, upload)
    upload.seek(0)
    key, sha256, size = store.store(upload.chunks())
    try:
        with transaction.atomic():
            post = _lock(post_id)
            attachment = PostAttachment.objects.create(
                post=post,
                original_name=name,
                kind=file_type.kind,
                content_type=file_type.content_type,
                size=size,
                sha256=sha256,
                storage_key=key,
                text=text,
                uploaded_by=actor,
            )
            refresh_search(post)
            post.updated_at = timezone.now()
            post.save(update_fields=["search_text", "updated_at"])
            record(
                "post.attachment_added",
                actor=actor,
                obj=post,
                unit_id=post.author_unit_id,
                detail={"attachment_id": attachment.pk, "name": name, "sha256": sha256},
            )
    except BaseException:
        store.discard(key)
        raise
    return attachment


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()


def process_cover(stream: IO[bytes] | UploadedFile) -> tuple[bytes, bytes]:
    """(cover, thumbnail) as clean JPEG bytes; 415 when Pillow cannot read the image."""
    try:
        with Image.open(stream) as image:
            if image.width * image.height > MAX_COVER_PIXELS:
                raise ApiError("attachment_type_refused", status_code=415)
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise ApiError("attachment_type_refused", status_code=415) from None
    cover = upright.copy()
    cover.thumbnail(COVER_MAX)
    thumb = ImageOps.fit(upright, COVER_THUMB)
    return _jpeg(cover), _jpeg(thumb)


def set_cover(post_id: int, actor: User, upload: UploadedFile) -> Post:
    post = selectors.post_or_404(actor, post_id, "post.cover")
    _require_editor(actor, post, "post.cover")
    _name, file_type = _checked(upload)
    if file_type.kind not in COVER_KINDS:
        raise ApiError(
            "attachment_type_refused", status_code=415, extra={"detected": file_type.kind}
        )
    cover, thumb = process_cover(upload)
    cover_key, _, _ = store.store([cover])
    thumb_key, _, _ = store.store([thumb])
    try:
        with transaction.atomic():
            post = _lock(post_id)
            old = (post.cover_key, post.cover_thumb_key)
            post.cover_key, post.cover_thumb_key = cover_key, thumb_key
            post.updated_at = timezone.now()
            post.save(update_fields=["cover_key", "cover_thumb_key", "updated_at"])
            record(
                "post.cover_set",
                actor=actor,
                obj=post,
                unit_id=post.author_unit_id,
                detail={"bytes": len(cover), "replaced": bool(old[0])},
            )
    except BaseException:
        store.discard(cover_key)
        store.discard(thumb_key)
        raise
    return post
