"""The journal layout (简报版式) of a published issue, as PDF bytes. Docs:
docs/submissions.md#rendering.

Reuses the fonts of the GB/T 9704 renderer (api/documents/rendering/fonts.py): a red
journal name across the top, 第N期 under it, the editor / date line over a red rule,
the items in order (title in 黑体, body in 仿宋, 〔unit〕 after each), and the
报/送/发 distribution lines over a rule at the end.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas

from api.documents.rendering import fonts
from api.documents.rendering.layout import wrap

RED = HexColor("#C00000")
LEFT = 28 * mm
RIGHT = A4[0] - 26 * mm
TOP = A4[1] - 37 * mm
BOTTOM = 35 * mm


@dataclass
class JournalItem:
    title: str
    body: str
    units: list[str]


@dataclass
class JournalLayout:
    journal: str
    year: int
    number: int
    editor: str
    date: str
    items: list[JournalItem]
    distribution: dict[str, str] = field(default_factory=dict)


def render_issue(data: JournalLayout) -> tuple[bytes, int]:
    """PDF bytes and the page count."""
    names = fonts.font_names()
    buffer = io.BytesIO()
    out = pdf_canvas.Canvas(buffer, pagesize=A4)
    out.setTitle(f"{data.journal} {data.year}年第{data.number}期")
    pages = 1
    width = RIGHT - LEFT

    out.setFillColor(RED)
    out.setFont(names["xiaobiaosong"], 36)
    out.drawCentredString(A4[0] / 2, TOP, data.journal)
    out.setFillColor(black)
    out.setFont(names["fangsong"], 16)
    out.drawCentredString(A4[0] / 2, TOP - 16 * mm, f"{data.year}年第{data.number}期")
    out.drawString(LEFT, TOP - 26 * mm, data.editor)
    out.drawRightString(RIGHT, TOP - 26 * mm, data.date)
    out.setStrokeColor(RED)
    out.setLineWidth(1.5)
    out.line(LEFT, TOP - 29 * mm, RIGHT, TOP - 29 * mm)
    y = TOP - 40 * mm

    def need(height: float) -> None:
        nonlocal y, pages
        if y - height < BOTTOM:
            out.showPage()
            pages += 1
            y = A4[1] - 37 * mm

    for item in data.items:
        for line in wrap(item.title, names["hei"], 16, width, width):
            need(9 * mm)
            out.setFont(names["hei"], 16)
            out.drawCentredString(A4[0] / 2, y, line)
            y -= 9 * mm
        text = item.body + ("（" + "、".join(item.units) + "）" if item.units else "")
        for paragraph in text.splitlines() or [""]:
            lines = wrap(paragraph, names["fangsong"], 16, width - 32, width)
            for index, line in enumerate(lines):
                need(8 * mm)
                out.setFont(names["fangsong"], 16)
                out.drawString(LEFT + (32 if index == 0 else 0), y, line)
                y -= 8 * mm
        y -= 6 * mm

    distribution = [(k, v) for k, v in data.distribution.items() if v]
    need(10 * mm * (len(distribution) + 1))
    out.setStrokeColor(black)
    out.setLineWidth(0.75)
    out.line(LEFT, y, RIGHT, y)
    y -= 8 * mm
    out.setFont(names["fangsong"], 14)
    for key, value in distribution:
        out.drawString(LEFT, y, f"{key}：{value}")
        y -= 8 * mm
    out.showPage()
    out.save()
    return buffer.getvalue(), pages
