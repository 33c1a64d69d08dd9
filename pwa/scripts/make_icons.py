#!/usr/bin/env python3
"""Draws the PWA's icons with Pillow (no downloads). Docs: docs/pwa.md#icons.

Run from the repository root: ``.venv/bin/python pwa/scripts/make_icons.py``. Writes
pwa/public/icons/{icon-192,icon-512,maskable-192,maskable-512,apple-touch-icon}.png and
pwa/public/favicon.png. The output is committed; rerun only when the design changes.

The mark is a white document with a red seal circle and a check on the theme blue.
"any" icons use a rounded square; "maskable" ones fill the whole square and keep the
mark inside the central 80 % safe zone, because launchers crop them to any shape.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "public"
THEME = (25, 74, 160)  # #194aa0, the manifest's theme_color
SEAL_RED = (200, 30, 30)


def draw_mark(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The document-with-seal mark, centred, `scale` of the canvas wide."""
    cx = cy = size / 2
    w, h = size * scale * 0.62, size * scale * 0.8
    left, top = cx - w / 2, cy - h / 2
    draw.rounded_rectangle(
        (left, top, left + w, top + h), radius=size * scale * 0.06, fill=(255, 255, 255)
    )
    line = max(2, round(size * scale * 0.035))
    for i in range(3):  # three text lines
        y = top + h * (0.2 + 0.14 * i)
        draw.line((left + w * 0.15, y, left + w * 0.85, y), fill=(150, 160, 180), width=line)
    r = w * 0.26
    sx, sy = left + w * 0.62, top + h * 0.72
    draw.ellipse((sx - r, sy - r, sx + r, sy + r), outline=SEAL_RED, width=line)
    draw.line(
        (sx - r * 0.5, sy, sx - r * 0.1, sy + r * 0.4, sx + r * 0.55, sy - r * 0.4),
        fill=SEAL_RED,
        width=line,
        joint="curve",
    )


def icon(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size, size), fill=THEME)
        draw_mark(draw, size, 0.62)  # inside the 80 % safe zone
    else:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.18, fill=THEME)
        draw_mark(draw, size, 0.8)
    return image


def main() -> None:
    (OUT / "icons").mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size, False).save(OUT / "icons" / f"icon-{size}.png", optimize=True)
        icon(size, True).save(OUT / "icons" / f"maskable-{size}.png", optimize=True)
    icon(180, True).convert("RGB").save(OUT / "icons" / "apple-touch-icon.png", optimize=True)
    icon(48, False).save(OUT / "favicon.png", optimize=True)
    print(f"icons written to {OUT}")  # noqa: T201 (a command-line script)


if __name__ == "__main__":
    main()
