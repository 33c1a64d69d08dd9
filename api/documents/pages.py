"""Reading on phones: page images and page text of a rendered document.
Docs: docs/reading-on-phones.md.

The latest ``RenderedPdf`` of a document is rasterised page by page with poppler's
``pdftoppm`` (PNG; WebP converted from it with Pillow) at a fixed set of widths, and its
text is extracted per page with ``pdftotext -layout``. Results are cached on disk next to
the PDF, under ``GOVDESK_RENDER_DIR/<document id>/pages/``, named by the PDF's SHA-256,
the page, the width and the format — a rendering's bytes never change, so an entry never
goes stale and is generated once. Writes go to a temporary file in the same directory
and are renamed into place (``os.replace``), so concurrent requests for the same page
at worst both render it and one wins; nobody ever reads a half-written file.

The tools run with fixed argument lists (no shell) and a timeout; any failure is logged
and raised as ``503 render_unavailable``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from celery import shared_task
from PIL import Image

from api.common.errors import ApiError, NotFound
from api.documents.models import Document, RenderedPdf
from api.documents.rendering.actions import pdf_path

logger = logging.getLogger(__name__)

WIDTHS = (360, 720)
FORMATS = {"png": "image/png", "webp": "image/webp"}
TOOL_TIMEOUT = 30  # seconds per pdftoppm / pdftotext run
WEBP_QUALITY = 80


def latest_rendering(document: Document) -> RenderedPdf:
    """The document's latest rendering, else 404 ``not_rendered``."""
    rendering = RenderedPdf.objects.filter(document=document).order_by("-version").first()
    if rendering is None or not pdf_path(rendering).is_file():
        raise ApiError("not_rendered", status_code=404)
    return rendering


def page_count(rendering: RenderedPdf) -> int:
    return int(rendering.meta.get("page_count") or 0)


def check_page(rendering: RenderedPdf, page: int) -> None:
    """Pages are numbered from 1; one out of range is a 404."""
    if not 1 <= page <= page_count(rendering):
        raise NotFound()


def cache_dir(rendering: RenderedPdf) -> Path:
    return pdf_path(rendering).parent / "pages"


def image_path(rendering: RenderedPdf, page: int, width: int, fmt: str) -> Path:
    return cache_dir(rendering) / f"{rendering.sha256}-p{page}-w{width}.{fmt}"


def text_path(rendering: RenderedPdf, page: int) -> Path:
    return cache_dir(rendering) / f"{rendering.sha256}-p{page}.txt"


def _run(args: list[str]) -> None:
    try:
        subprocess.run(args, capture_output=True, check=True, timeout=TOOL_TIMEOUT)  # noqa: S603 (fixed argv, no shell)
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", None) or b""
        logger.error(
            "page rendering failed: %s: %s %s",
            args[0],
            exc.__class__.__name__,
            stderr[-500:].decode("utf-8", "replace"),
        )
        raise ApiError("render_unavailable", status_code=503) from exc


def _rasterise(pdf: Path, page: int, width: int, prefix: Path) -> Path:
    """``pdftoppm`` one page to ``<prefix>.png``. ``-scale-to-x`` fixes the width in
    pixels (the DPI that gives it: width / page width in inches); ``-scale-to-y -1``
    keeps the aspect ratio."""
    _run(
        [
            "pdftoppm",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            "-png",
            "-scale-to-x",
            str(width),
            "-scale-to-y",
            "-1",
            str(pdf),
            str(prefix),
        ]
    )
    return prefix.with_suffix(".png")


def pdf_page_image(pdf: Path, cache: Path, stem: str, page: int, width: int, fmt: str) -> Path:
    """The image of ``page`` (1-based) of any PDF at ``width`` px in ``fmt``, cached in
    ``cache`` as ``<stem>-p<page>-w<width>.<fmt>`` (``stem``: the PDF's SHA-256, so an
    entry never goes stale). Shared by documents and attachment previews."""
    if width not in WIDTHS or fmt not in FORMATS:
        raise ValueError("unsupported width or format")
    target = cache / f"{stem}-p{page}-w{width}.{fmt}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".work-") as work:
        prefix = Path(work) / "page"
        cached_png = cache / f"{stem}-p{page}-w{width}.png"
        if fmt == "webp" and cached_png.is_file():
            png = cached_png  # the WebP is made from the cached PNG: no second pdftoppm
        else:
            png = _rasterise(pdf, page, width, prefix)
        if fmt == "png":
            produced = png
        else:
            produced = prefix.with_suffix(".webp")
            try:
                with Image.open(png) as image:
                    image.save(produced, "WEBP", quality=WEBP_QUALITY, method=4)
            except OSError as exc:
                logger.error("page rendering failed: webp conversion: %s", exc)
                raise ApiError("render_unavailable", status_code=503) from exc
        os.replace(produced, target)
    return target


def pdf_page_text(pdf: Path, cache: Path, stem: str, page: int) -> str:
    """The text of ``page`` (1-based) of any PDF, layout kept (``pdftotext -layout``),
    cached in ``cache`` as ``<stem>-p<page>.txt``."""
    target = cache / f"{stem}-p{page}.txt"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".work-") as work:
            out = Path(work) / "page.txt"
            _run(
                [
                    "pdftotext",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-layout",
                    "-enc",
                    "UTF-8",
                    str(pdf),
                    str(out),
                ]
            )
            os.replace(out, target)
    return target.read_text(encoding="utf-8").rstrip("\f")


def page_image(rendering: RenderedPdf, page: int, width: int, fmt: str) -> Path:
    """The cached image file of ``page`` (1-based) at ``width`` px in ``fmt``."""
    return pdf_page_image(
        pdf_path(rendering), cache_dir(rendering), rendering.sha256, page, width, fmt
    )


def page_text(rendering: RenderedPdf, page: int) -> str:
    """The text of ``page`` (1-based), layout kept (``pdftotext -layout``), cached."""
    return pdf_page_text(pdf_path(rendering), cache_dir(rendering), rendering.sha256, page)


def pregenerate(rendering: RenderedPdf) -> int:
    """Generate every page at every width in both formats; returns the files made or
    found (safe to run twice: existing entries are kept)."""
    made = 0
    for page in range(1, page_count(rendering) + 1):
        for width in WIDTHS:
            for fmt in FORMATS:
                page_image(rendering, page, width, fmt)
                made += 1
    return made


@shared_task(name="api.documents.pages.render_page_images")
def render_page_images(document_id: int) -> dict | None:
    """Pre-generate the page images of the document's latest rendering (sent by
    ``render_document`` after it stores a rendering)."""
    rendering = RenderedPdf.objects.filter(document_id=document_id).order_by("-version").first()
    if rendering is None or not pdf_path(rendering).is_file():
        logger.warning("render_page_images: document %s has no rendering", document_id)
        return None
    return {"document": document_id, "rendering": rendering.pk, "images": pregenerate(rendering)}
