"""Seal images (印章图像): validate a scan, make it a transparent red 42 mm PNG, or
draw the default seal. Docs: docs/seals.md#seal-images.

A scan is accepted only as PNG or JPEG decided from the content (magic bytes, then
Pillow's own identification must agree), at most GOVDESK_SEAL_IMAGE_MAX_BYTES, and
at most MAX_SIDE pixels a side and MAX_PIXELS pixels in all — checked from the header
before any pixel is decoded, with Pillow's decompression-bomb guard
(``Image.MAX_IMAGE_PIXELS``, left at Pillow's default and never disabled here; its
warning is raised as an error) as a second line. The global is not changed: it is
process-wide and the renderer shares it.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageChops, ImageDraw, ImageFont

from api.common.errors import ApiError

SEAL_RED = (230, 0, 18)  # #E60012
SEAL_MM = 42
DPI = 300
SEAL_PX = round(SEAL_MM / 25.4 * DPI)  # 496
MAX_SIDE = 6000
MAX_PIXELS = 24_000_000
# Luminance at or above this is background (paper); below, ink with alpha rising
# linearly to opaque at INK_FULL.
PAPER_LUMINANCE = 200
INK_FULL = 90

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
)

_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


def _bad(code: str, status_code: int = 422) -> ApiError:
    return ApiError(code, status_code=status_code)


def sniff(data: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            return kind
    return None


_EXTENSIONS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG"}


def open_checked(data: bytes, filename: str | None = None) -> Image.Image:
    """Decode an uploaded PNG/JPEG safely, or raise ``seal_image_too_large`` (413),
    ``seal_image_type`` / ``seal_image_type_mismatch`` (415: not PNG/JPEG, or the
    file name's extension names the other type), ``seal_image_too_many_pixels`` or
    ``seal_image_invalid`` (422)."""
    if len(data) > settings.GOVDESK_SEAL_IMAGE_MAX_BYTES:
        raise _bad("seal_image_too_large", 413)
    kind = sniff(data)
    if kind is None:
        raise _bad("seal_image_type", 415)
    if filename is not None:
        declared = _EXTENSIONS.get(Path(filename).suffix.lower().lstrip("."))
        if declared != kind:
            raise _bad("seal_image_type_mismatch", 415)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                raise _bad("seal_image_too_many_pixels")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bad("seal_image_too_many_pixels") from exc
    except ApiError:
        raise
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError) as exc:
        raise _bad("seal_image_invalid") from exc
    if image.format != kind or width < 32 or height < 32:
        raise _bad("seal_image_invalid")
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()


def process_scan(data: bytes, filename: str | None = None) -> bytes:
    """A seal scan → PNG: background transparent, ink red with alpha from luminance,
    cropped to the ink, centred on a square and scaled to 42 mm at 300 dpi."""
    image = open_checked(data, filename)
    rgba = image.convert("RGBA")
    luminance = rgba.convert("L")
    span = PAPER_LUMINANCE - INK_FULL
    ink = luminance.point(
        lambda v: 0 if v >= PAPER_LUMINANCE else min(255, (PAPER_LUMINANCE - v) * 255 // span)
    )
    alpha = ImageChops.multiply(ink, rgba.getchannel("A"))
    box = alpha.getbbox()
    if box is None:
        raise _bad("seal_image_blank")
    alpha = alpha.crop(box)
    side = max(alpha.size)
    square = Image.new("L", (side, side), 0)
    square.paste(alpha, ((side - alpha.width) // 2, (side - alpha.height) // 2))
    square = square.resize((SEAL_PX, SEAL_PX), Image.Resampling.LANCZOS)
    result = Image.new("RGBA", (SEAL_PX, SEAL_PX), (*SEAL_RED, 0))
    result.putalpha(square)
    return _png(result)


def font_path() -> str | None:
    """The first Debian CJK font installed (fonts-wqy-microhei, fonts-arphic-uming)."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def default_seal(unit_name: str) -> bytes:
    """The demo seal: a red ring, the unit name around the upper rim, a star in the
    middle; drawn at 2× and scaled down to 42 mm at 300 dpi."""
    scale = 2
    size = SEAL_PX * scale
    canvas = Image.new("RGBA", (size, size), (*SEAL_RED, 0))
    draw = ImageDraw.Draw(canvas)
    ring = size * 0.035
    draw.ellipse(
        (ring / 2, ring / 2, size - ring / 2, size - ring / 2),
        outline=(*SEAL_RED, 255),
        width=round(ring),
    )
    centre = size / 2
    draw.polygon(_star(centre, centre, size * 0.17), fill=(*SEAL_RED, 255))
    text = unit_name.strip()[:20] or "?"
    glyph = round(size * 0.12)
    font = _font(glyph)
    radius = size / 2 - ring - glyph * 0.75
    arc = min(250.0, 22.0 * len(text)) if len(text) > 1 else 0.0
    for index, char in enumerate(text):
        angle = -arc / 2 + (arc * index / (len(text) - 1) if len(text) > 1 else 0.0)
        tile = Image.new("RGBA", (glyph * 2, glyph * 2), (*SEAL_RED, 0))
        ImageDraw.Draw(tile).text(
            (glyph, glyph),
            char,
            font=font,
            fill=(*SEAL_RED, 255),
            anchor="mm",
            stroke_width=max(1, glyph // 40),
            stroke_fill=(*SEAL_RED, 255),
        )
        tile = tile.rotate(-angle, resample=Image.Resampling.BICUBIC)
        theta = math.radians(angle - 90)
        x = centre + radius * math.cos(theta) - glyph
        y = centre + radius * math.sin(theta) - glyph
        canvas.alpha_composite(tile, (round(x), round(y)))
    return _png(canvas.resize((SEAL_PX, SEAL_PX), Image.Resampling.LANCZOS))
