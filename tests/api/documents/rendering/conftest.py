"""Fixtures for the rendering tests (docs/rendering.md): text extraction and page
geometry through poppler (pdftotext), a per-test storage directory."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.documents.rendering import fonts

NEEDS_POPPLER = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed; .ci/run installs it",
)


@pytest.fixture(autouse=True)
def render_dir(settings, tmp_path):
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    missing = [message for _, message in fonts.problems()]
    if missing:
        pytest.skip("fonts missing (.ci/run installs them): " + "; ".join(missing))
    return settings.GOVDESK_RENDER_DIR


def pdftotext(pdf: bytes, tmp_path: Path, *args: str) -> str:
    source = tmp_path / "input.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *args, str(source), "-"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout.decode("utf-8")


def pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """``pdftotext -layout`` of each page (split on form feeds)."""
    return pdftotext(pdf, tmp_path, "-layout").split("\f")[:-1]


def joined(text: str) -> str:
    """The text with line breaks and layout spaces removed (a sentence that wraps
    across lines reads whole again)."""
    return re.sub(r"\s+", "", text)


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def words(pdf: bytes, tmp_path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page: (x0, top, x1, bottom, word) in points from the top-left corner."""
    html = pdftotext(pdf, tmp_path, "-bbox")
    pages = html.split("<page ")[1:]
    return [
        [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(page)]
        for page in pages
    ]
