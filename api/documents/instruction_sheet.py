"""The instruction sheet (批示单): a PDF listing a document's handwritten instructions,
and appending it to a rendered (possibly sealed) PDF without altering the signed body.
Docs: docs/instructions.md#the-instruction-sheet.

``build_instruction_sheet(document)`` draws, for each 批示: author and 职务, the opinion
text, the handwriting image and the full date-time, with the renderer's embedded fonts
(api/documents/rendering/fonts.py), so pdftotext returns the Chinese exactly.

``append_instruction_sheet(pdf_bytes, sheet_bytes)`` writes an *incremental update*
(pypdf ``incremental=True``): the original bytes come first, unchanged, followed by the
sheet's pages and a new xref section. The signature's byte range therefore still hashes
the same bytes; note that a validator may report pages added after signing as a
modification — the API serves the sheet as a separate PDF for that reason.
"""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    HRFlowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from api.documents.instructions import path_for
from api.documents.models import Document, HandwrittenInstruction
from api.documents.rendering.fonts import font_names

MAX_IMAGE_WIDTH = 150 * mm
MAX_IMAGE_HEIGHT = 70 * mm


def full_datetime(moment: datetime) -> str:
    """2026年11月24日 20:53 in the deployment's time zone."""
    local = timezone.localtime(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _styles() -> dict[str, ParagraphStyle]:
    fonts = font_names()
    base = {"wordWrap": "CJK"}
    return {
        "title": ParagraphStyle(
            "title", fontName=fonts["xiaobiaosong"], fontSize=22, leading=32, alignment=1, **base
        ),
        "subtitle": ParagraphStyle(
            "subtitle", fontName=fonts["fangsong"], fontSize=12, leading=20, alignment=1, **base
        ),
        "head": ParagraphStyle("head", fontName=fonts["hei"], fontSize=14, leading=22, **base),
        "text": ParagraphStyle("text", fontName=fonts["kai"], fontSize=16, leading=26, **base),
        "meta": ParagraphStyle("meta", fontName=fonts["fangsong"], fontSize=12, leading=20, **base),
    }


def _image(instruction: HandwrittenInstruction) -> Image | None:
    path = path_for(instruction.path)
    if not path.is_file():
        return None
    ratio = min(
        MAX_IMAGE_WIDTH / instruction.width, MAX_IMAGE_HEIGHT / instruction.height, 0.5 * mm
    )
    return Image(str(path), width=instruction.width * ratio, height=instruction.height * ratio)


def build_instruction_sheet(document: Document) -> bytes:
    """The 批示单 of ``document`` as a PDF (A4, one or more pages)."""
    styles = _styles()
    instructions = list(
        HandwrittenInstruction.objects.filter(document=document)
        .select_related("author")
        .order_by("id")
    )
    story: list = [
        Paragraph("领导批示 · 批示单", styles["title"]),
        Paragraph(escape(document.title), styles["subtitle"]),
    ]
    if document.doc_number:
        story.append(Paragraph(escape(document.doc_number), styles["subtitle"]))
    story.append(Spacer(1, 6 * mm))
    if not instructions:
        story.append(Paragraph("暂无批示。", styles["meta"]))
    for number, item in enumerate(instructions, start=1):
        author = escape(item.author.display_name)
        if item.author.title:
            author += f"（{escape(item.author.title)}）"
        block: list = [
            HRFlowable(width="100%", thickness=0.6, spaceBefore=2 * mm, spaceAfter=2 * mm),
            Paragraph(f"批示{number}　批示人：{author}", styles["head"]),
        ]
        if item.opinion:
            block.append(Paragraph(escape(item.opinion).replace("\n", "<br/>"), styles["text"]))
        image = _image(item)
        if image is not None:
            image.hAlign = "LEFT"
            block.append(image)
        block.append(Paragraph(f"批示时间：{full_datetime(item.created_at)}", styles["meta"]))
        story.append(KeepTogether(block))
    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=37 * mm,
        bottomMargin=35 * mm,
        title=f"批示单 {document.title}",
        author="GovDesk",
        invariant=1,
    )
    template.build(story)
    return out.getvalue()


def append_instruction_sheet(pdf_bytes: bytes, sheet_bytes: bytes) -> bytes:
    """``pdf_bytes`` unchanged, followed by an incremental update adding the sheet's pages."""
    writer = PdfWriter(io.BytesIO(pdf_bytes), incremental=True)
    for page in PdfReader(io.BytesIO(sheet_bytes)).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    combined = out.getvalue()
    if not combined.startswith(pdf_bytes):  # the whole point: never alter the body
        raise RuntimeError("incremental update altered the original PDF bytes")
    return combined
