"""Handwritten instructions (批示): validation, stroke rasterising, storage and the
``add_instruction`` action. Docs: docs/instructions.md.

A phone sends either a PNG or strokes (``[[[x, y, t?], ...], ...]`` on a canvas of at
most 2000 × 2000). Strokes are bounded (≤ 500 strokes, ≤ 20,000 points) and drawn with
Pillow in black, antialiased, on a transparent background. A PNG is checked by its
content (magic bytes, the IHDR pixel count *before* decoding, Pillow's verify and the
real format) and always re-encoded by Pillow, so metadata (tEXt/iTXt/eXIf chunks,
extra frames) never reaches storage. Files are stored under GOVDESK_INSTRUCTION_DIR
(default GOVDESK_VAR_DIR/instructions, outside the web root) named by their SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from PIL import Image, ImageDraw

from api.accounts.models import User
from api.audit.recorder import record
from api.common.errors import ApiError
from api.common.i18n import t
from api.documents import hooks
from api.documents.models import Document, HandwrittenInstruction

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_STROKES = 500
MAX_POINTS = 20_000
MAX_CANVAS = 2000
MAX_OPINION = 2000
INK_WIDTH = 3  # output pixels
# Supersampling factor for antialiasing, bounded so the work canvas stays ≤ 4000 px a side.
_WORK_SIDE = 4000


@dataclass(frozen=True)
class StoredImage:
    path: str  # relative to GOVDESK_INSTRUCTION_DIR
    sha256: str
    width: int
    height: int


# --- PNG uploads ---------------------------------------------------------------------------


def _type_refused() -> ApiError:
    return ApiError("instruction_image_type", status_code=415)


def _too_many_pixels() -> ApiError:
    return ApiError("instruction_image_too_large", status_code=422)


def clean_png(data: bytes) -> tuple[bytes, int, int]:
    """A validated, re-encoded RGBA PNG from ``data`` → (png bytes, width, height).

    413 over GOVDESK_INSTRUCTION_MAX_BYTES; 415 ``instruction_image_type`` for anything
    that is not really a PNG; 422 ``instruction_image_too_large`` when the header
    announces more than GOVDESK_INSTRUCTION_MAX_PIXELS pixels (checked before decoding)."""
    if len(data) > settings.GOVDESK_INSTRUCTION_MAX_BYTES:
        raise ApiError("instruction_image_too_large", status_code=413)
    if len(data) < 33 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        raise _type_refused()
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0:
        raise _type_refused()
    if width * height > settings.GOVDESK_INSTRUCTION_MAX_PIXELS:
        raise _too_many_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as probe:
                if probe.format != "PNG" or probe.size != (width, height):
                    raise _type_refused()
                probe.verify()
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.seek(0)
                rgba = image.convert("RGBA")
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:  # Pillow raises many types for corrupt input
        raise _type_refused() from None
    return encode_png(rgba), width, height


def encode_png(image: Image.Image) -> bytes:
    """Re-encode with Pillow: pixels only, no text chunks, EXIF or ICC profile."""
    clean = Image.new("RGBA", image.size)
    clean.paste(image.convert("RGBA"))
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- strokes -------------------------------------------------------------------------------


def _strokes_invalid(en: str, zh: str) -> ApiError:
    return ApiError("instruction_strokes_invalid", status_code=422, fields={"strokes": [t(zh, en)]})


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _canvas_side(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CANVAS:
        raise ApiError(
            "instruction_strokes_invalid",
            status_code=422,
            fields={
                name: [t(f"须为 1–{MAX_CANVAS} 的整数。", f"An integer from 1 to {MAX_CANVAS}.")]
            },
        )
    return value


def validate_strokes(strokes: Any, width: Any, height: Any) -> list[list[tuple[float, float]]]:
    """Bounded, in-canvas strokes → lists of (x, y); the optional time stamp is checked
    to be a number and then dropped."""
    width = _canvas_side(width, "width")
    height = _canvas_side(height, "height")
    if not isinstance(strokes, list) or not strokes:
        raise _strokes_invalid("At least one stroke is required.", "至少需要一笔。")
    if len(strokes) > MAX_STROKES:
        raise _strokes_invalid(
            f"At most {MAX_STROKES} strokes.", f"笔画不能超过 {MAX_STROKES} 笔。"
        )
    total = 0
    cleaned: list[list[tuple[float, float]]] = []
    for stroke in strokes:
        if not isinstance(stroke, list) or not stroke:
            raise _strokes_invalid(
                "Each stroke is a non-empty list of points.", "每一笔须为非空的点列表。"
            )
        total += len(stroke)
        if total > MAX_POINTS:
            raise _strokes_invalid(f"At most {MAX_POINTS} points.", f"点数不能超过 {MAX_POINTS}。")
        points = []
        for point in stroke:
            if not isinstance(point, list) or len(point) not in (2, 3):
                raise _strokes_invalid(
                    "A point is [x, y] or [x, y, t].", "点须为 [x, y] 或 [x, y, t]。"
                )
            numbers = [_number(v) for v in point]
            if any(n is None for n in numbers):
                raise _strokes_invalid("Point values must be finite numbers.", "坐标须为有限数值。")
            x, y = numbers[0], numbers[1]
            assert x is not None and y is not None
            if not (0 <= x <= width and 0 <= y <= height):
                raise _strokes_invalid("A point lies outside the canvas.", "有点超出画布范围。")
            points.append((x, y))
        cleaned.append(points)
    return cleaned


def rasterise(strokes: list[list[tuple[float, float]]], width: int, height: int) -> bytes:
    """Black ink, antialiased (drawn supersampled, then downscaled), transparent background."""
    scale = max(1, min(4, _WORK_SIDE // max(width, height)))
    mask = Image.new("L", (width * scale, height * scale), 0)
    draw = ImageDraw.Draw(mask)
    ink = INK_WIDTH * scale
    radius = ink / 2
    for stroke in strokes:
        scaled = [(x * scale, y * scale) for x, y in stroke]
        if len(scaled) > 1:
            draw.line(scaled, fill=255, width=ink, joint="curve")
        for x, y in (scaled[0], scaled[-1]):  # round caps (and single-point dots)
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    if scale > 1:
        mask = mask.resize((width, height), Image.Resampling.LANCZOS)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.putalpha(mask)
    return encode_png(image)


# --- storage -------------------------------------------------------------------------------


def storage_dir() -> Path:
    return Path(settings.GOVDESK_INSTRUCTION_DIR)


def path_for(relative: str) -> Path:
    return storage_dir() / relative


def store(png: bytes, width: int, height: int) -> StoredImage:
    """Write ``png`` as <sha[:2]>/<sha>.png (atomic rename; same content, same file)."""
    digest = hashlib.sha256(png).hexdigest()
    relative = f"{digest[:2]}/{digest}.png"
    target = path_for(relative)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(png)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return StoredImage(relative, digest, width, height)


# --- the action ----------------------------------------------------------------------------


def clean_opinion(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_OPINION or "\x00" in value:
        raise ApiError(
            "validation_error",
            fields={
                "opinion": [
                    t(
                        f"意见须为不超过 {MAX_OPINION} 字的文本。",
                        f"Text of at most {MAX_OPINION} characters.",
                    )
                ]
            },
        )
    return value.strip()


def add_instruction(
    document_id: int, user: User, image: StoredImage, opinion: str, task_id: int | None = None
) -> HandwrittenInstruction:
    """Record a 批示 whose image is already stored (content-addressed, so a rolled-back
    transaction leaves at most an unreferenced file). The caller has checked visibility."""
    with transaction.atomic():
        document = Document.objects.select_for_update(no_key=True).get(pk=document_id)
        task = hooks.workflow.user_task(document, user, task_id)
        instruction = HandwrittenInstruction.objects.create(
            document=document,
            task=task,
            author=user,
            opinion=opinion,
            path=image.path,
            sha256=image.sha256,
            width=image.width,
            height=image.height,
        )
        record(
            "document.instruction_added",
            actor=user,
            obj=document,
            detail={
                "instruction_id": instruction.pk,
                "task_id": task.pk if task else None,
                "sha256": image.sha256,
                "width": image.width,
                "height": image.height,
            },
        )
    return instruction
