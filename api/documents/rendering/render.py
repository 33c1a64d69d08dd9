"""The GB/T 9704-2012 renderer: a ``RenderInput`` → PDF bytes plus layout metadata.

Docs: docs/rendering.md. ``render(data)`` is pure (no database): it lays the
document out on the 22 × 28 grid of ``layout.py`` and draws it with reportlab, fonts
embedded and subset (``fonts.py``). The output is deterministic — the same input gives
the same bytes (reportlab's invariant mode: fixed dates and file id) — which is what
makes the stored renderings content-addressed. ``input_for(document)`` builds the
input from a ``Document``.

Formats: 文件格式 (notice, request, report and every other type), 信函格式 (letter),
纪要格式 (minutes). The returned ``seal`` is where the unit seal goes: a 42 mm square
centred on the issuing-body name and date (``None`` for minutes, which are not sealed).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from reportlab.lib.colors import Color, HexColor, black
from reportlab.pdfgen.canvas import Canvas

from api.documents.rendering import fonts
from api.documents.rendering.layout import (
    ASCENT,
    BLOCK_WIDTH,
    BODY_SIZE,
    CHAR_PITCH,
    DESCENT,
    LINE_PITCH,
    LINES_PER_PAGE,
    MM,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    X0,
    X1,
    Y_BOTTOM,
    Y_TOP,
    balanced,
    baseline,
    char_space,
    first_slot_below,
    justified_spacing,
    slot_top,
    width,
    wrap,
)

RED = HexColor("#E60012")
MARK_SIZE = 42.0  # the issuing-body mark: about 15 mm high, narrowed to fit the block
TITLE_SIZE = 22.0  # 2号
COLOPHON_SIZE = 14.0  # 4号
PAGE_NUMBER_SIZE = 14.0  # 4号
SEAL_DIAMETER = 42 * MM
UPWARD_TYPES = frozenset({"request", "report"})  # 上行文: 签发人 in the header
URGENCY_LABELS = {"urgent": "加急", "very_urgent": "特急"}
ATTENDANCE_LABELS = ("出席", "请假", "列席")
LEVEL_FONTS = {0: "fangsong", 1: "hei", 2: "kai", 3: "fangsong", 4: "fangsong"}


@dataclass
class RenderInput:
    doc_type: str
    title: str
    unit_name: str
    body: list[dict[str, Any]] = field(default_factory=list)
    date: dt.date = field(default_factory=dt.date.today)  # 成文日期
    mark: str = ""  # 发文机关标志; '' → "{unit_name}文件" (函: the name, 纪要: "…会议纪要")
    doc_number: str = ""
    urgency: str = "normal"
    copy_number: str = ""  # 份号
    signer: str = ""  # 签发人 (upward documents)
    main_recipients: str = ""
    attachments: list[str] = field(default_factory=list)
    note: str = ""  # 附注
    attendance: dict[str, str] = field(default_factory=dict)  # 纪要: 出席/请假/列席 → names
    cc: str = ""
    printed_by: str = ""  # 印发机关; '' → unit_name
    printed_on: dt.date | None = None  # 印发日期; None → date


@dataclass(frozen=True)
class SealBox:
    page: int  # 0-based page index
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points

    def as_dict(self) -> dict[str, Any]:
        return {"page": self.page, "box": list(self.box)}


@dataclass(frozen=True)
class RenderResult:
    pdf: bytes
    page_count: int
    seal: SealBox | None

    def meta(self) -> dict[str, Any]:
        return {
            "page_count": self.page_count,
            "seal": self.seal.as_dict() if self.seal else None,
        }


def full_date(day: dt.date) -> str:
    """成文日期 per GB/T 9704-2012 §7.3.5: Arabic numerals, full year, no leading zeros."""
    return f"{day.year}年{day.month}月{day.day}日"


# --- drawing operations -----------------------------------------------------------


@dataclass
class Text:
    x: float
    text: str
    role: str
    size: float = BODY_SIZE
    spacing: float | None = None  # None → the grid's character spacing for the size
    color: Color = black
    y: float | None = None  # absolute baseline; None → the baseline of the line's slot
    scale: float = 100.0  # horizontal scale (%)
    bold: bool = False  # simulated weight for the substitute 小标宋


@dataclass
class Rule:
    x0: float
    x1: float
    y: float
    thickness: float
    color: Color = black


@dataclass
class Line:
    """One grid line of the flow (blank when ``items`` is empty)."""

    items: list[Text] = field(default_factory=list)
    keep_with_next: bool = False
    tag: str = ""


class Canvaslike:
    """Pages of placed operations, drawn at the end."""

    def __init__(self) -> None:
        self.pages: list[list[Text | Rule]] = [[]]

    def add(self, page: int, op: Text | Rule) -> None:
        while len(self.pages) <= page:
            self.pages.append([])
        self.pages[page].append(op)


# --- laying out ---------------------------------------------------------------------


class Layout:
    def __init__(self, data: RenderInput) -> None:
        self.data = data
        self.names = fonts.font_names()
        self.out = Canvaslike()
        self.letter = data.doc_type == "letter"
        self.minutes = data.doc_type == "minutes"
        self.tags: dict[str, tuple[int, int]] = {}

    def font(self, role: str) -> str:
        return self.names[role]

    def measure(self, text: str, role: str, size: float = BODY_SIZE) -> float:
        return width(text, self.font(role), size, char_space(size))

    # header (版头) -----------------------------------------------------------------

    def mark_text(self) -> str:
        data = self.data
        if data.mark:
            return data.mark
        if self.letter:
            return data.unit_name
        if self.minutes:
            return data.title if data.title.endswith("纪要") else f"{data.unit_name}会议纪要"
        return f"{data.unit_name}文件"

    def draw_mark(self, top_edge: float) -> float:
        """The red issuing-body mark, centred, narrowed to the block → its bottom edge."""
        text = self.mark_text()
        size = MARK_SIZE
        natural = width(text, self.font("xiaobiaosong"), size, 0)
        scale = min(100.0, 100.0 * BLOCK_WIDTH / natural) if natural else 100.0
        if scale < 50:
            size = size * scale / 50
            natural = width(text, self.font("xiaobiaosong"), size, 0)
            scale = 50.0
        drawn = natural * scale / 100
        y = top_edge - ASCENT * size
        self.out.add(
            0,
            Text(
                X0 + (BLOCK_WIDTH - drawn) / 2,
                text,
                "xiaobiaosong",
                size,
                spacing=0,
                color=RED,
                y=y,
                scale=scale,
                bold=fonts.is_substitute("xiaobiaosong"),
            ),
        )
        return y - DESCENT * size

    def header_labels(self) -> list[tuple[str, str]]:
        """份号 then 紧急程度, top-left, one per line (3号黑体)."""
        labels = []
        if self.data.copy_number:
            labels.append((self.data.copy_number, "hei"))
        if self.data.urgency in URGENCY_LABELS:
            labels.append((URGENCY_LABELS[self.data.urgency], "hei"))
        return labels

    def header_document(self) -> int:
        """文件格式 / 纪要格式 header → the first grid line below it for the title."""
        for slot, (text, role) in enumerate(self.header_labels()):
            self.out.add(0, Text(X0, text, role, y=baseline(slot)))
        mark_bottom = self.draw_mark(Y_TOP - 35 * MM)
        if self.minutes:
            rule_y = mark_bottom - LINE_PITCH
        else:
            number_y = mark_bottom - 2 * LINE_PITCH - LINE_PITCH + (LINE_PITCH - BODY_SIZE) / 2
            number_y += DESCENT * BODY_SIZE
            self.number_line(number_y)
            rule_y = number_y - DESCENT * BODY_SIZE - 4 * MM
        self.out.add(0, Rule(X0, X1, rule_y, 1.2, RED))
        return first_slot_below(rule_y) + 1

    def number_line(self, y: float) -> None:
        data = self.data
        upward = data.doc_type in UPWARD_TYPES and data.signer
        if upward:
            # 发文字号 one character in from the left, 签发人 one character in from the right.
            if data.doc_number:
                self.out.add(0, Text(X0 + CHAR_PITCH, data.doc_number, "fangsong", y=y))
            name_w = self.measure(data.signer, "kai")
            label = "签发人："
            label_w = self.measure(label, "fangsong")
            right = X1 - CHAR_PITCH
            self.out.add(0, Text(right - name_w - label_w, label, "fangsong", y=y))
            self.out.add(0, Text(right - name_w, data.signer, "kai", y=y))
        elif data.doc_number:
            w = self.measure(data.doc_number, "fangsong")
            self.out.add(0, Text(X0 + (BLOCK_WIDTH - w) / 2, data.doc_number, "fangsong", y=y))

    def header_letter(self) -> int:
        """信函格式: mark 30 mm from the top edge, red double lines 170 mm long (thick
        over thin under the mark, thin over thick 20 mm above the bottom edge), the
        number flush right under the first double line."""
        mark_bottom = self.draw_mark(PAGE_HEIGHT - 30 * MM)
        left, right = (PAGE_WIDTH - 170 * MM) / 2, (PAGE_WIDTH + 170 * MM) / 2
        top_line = mark_bottom - 4 * MM
        self.out.add(0, Rule(left, right, top_line, 2.0, RED))
        self.out.add(0, Rule(left, right, top_line - 3.0, 0.6, RED))
        bottom_line = 20 * MM
        self.out.add(0, Rule(left, right, bottom_line, 2.0, RED))
        self.out.add(0, Rule(left, right, bottom_line + 3.0, 0.6, RED))
        first = top_line - 3.0 - 7 / 8 * BODY_SIZE - ASCENT * BODY_SIZE
        y = first
        for text, role in self.header_labels():
            self.out.add(0, Text(X0, text, role, y=y))
            y -= LINE_PITCH
        if self.data.doc_number:
            w = self.measure(self.data.doc_number, "fangsong")
            self.out.add(0, Text(X1 - w, self.data.doc_number, "fangsong", y=first))
        last = min(y + LINE_PITCH, first)
        return first_slot_below(last - DESCENT * BODY_SIZE) + 1

    # body (主体) -------------------------------------------------------------------

    def paragraph(
        self,
        text: str,
        role: str,
        indent: float,
        hang: float = 0.0,
        justify: bool = True,
        whole_words: bool = False,
    ) -> list[Line]:
        """A paragraph: first line at ``indent``, the others at ``hang``; a heading
        (``whole_words``) breaks only between words."""
        font = self.font(role)
        pieces = wrap(
            text,
            font,
            BODY_SIZE,
            BLOCK_WIDTH - indent,
            BLOCK_WIDTH - hang,
            whole_words=whole_words,
        )
        lines = []
        for index, piece in enumerate(pieces):
            x = X0 + (indent if index == 0 else hang)
            spacing = None
            if justify and index < len(pieces) - 1:
                spacing = justified_spacing(piece, font, BODY_SIZE, X1 - x)
            lines.append(Line([Text(x, piece, role, spacing=spacing)]))
        return lines

    def labelled(self, label: str, label_role: str, text: str, size: float, inset: float):
        """``label：text`` with wrapped lines aligned after the colon."""
        label_w = width(label, self.font(label_role), size, char_space(size))
        font = self.font("fangsong")
        avail = BLOCK_WIDTH - inset - label_w - (CHAR_PITCH * size / BODY_SIZE if inset else 0)
        pieces = wrap(text, font, size, avail, avail)
        lines = []
        for index, piece in enumerate(pieces):
            items = [Text(X0 + inset + label_w, piece, "fangsong", size)]
            if index == 0:
                items.insert(0, Text(X0 + inset, label, label_role, size))
            lines.append(Line(items))
        return lines

    def flow(self) -> list[Line]:
        data = self.data
        lines: list[Line] = []
        if not (self.minutes and data.title == self.mark_text()):
            font = self.font("xiaobiaosong")
            for piece in balanced(data.title, font, TITLE_SIZE, BLOCK_WIDTH - 2 * CHAR_PITCH):
                w = width(piece, font, TITLE_SIZE, char_space(TITLE_SIZE))
                bold = fonts.is_substitute("xiaobiaosong")
                lines.append(
                    Line(
                        [
                            Text(
                                X0 + (BLOCK_WIDTH - w) / 2,
                                piece,
                                "xiaobiaosong",
                                TITLE_SIZE,
                                bold=bold,
                            )
                        ],
                        keep_with_next=True,
                    )
                )
            lines.append(Line(keep_with_next=True))
        if data.main_recipients:
            recipients = data.main_recipients.rstrip()
            if not recipients.endswith(("：", ":")):
                recipients += "："
            lines += self.paragraph(recipients, "fangsong", 0, 0, justify=False)
        for paragraph in data.body:
            level = int(paragraph.get("level", 0))
            text = str(paragraph.get("text", ""))
            para = self.paragraph(
                text, LEVEL_FONTS.get(level, "fangsong"), 2 * CHAR_PITCH, whole_words=level > 0
            )
            if level:
                para[-1].keep_with_next = True  # a heading never ends a page
            lines += para
        if data.attachments:
            lines.append(Line())
            many = len(data.attachments) > 1
            label = "附件："
            label_w = self.measure(label, "fangsong")
            for index, name in enumerate(data.attachments, start=1):
                item = f"{index}.{name}" if many else name
                number_w = self.measure(f"{index}.", "fangsong") if many else 0
                sub = self.paragraph(
                    item,
                    "fangsong",
                    2 * CHAR_PITCH + label_w,
                    2 * CHAR_PITCH + label_w + number_w,
                    justify=False,
                )
                if index == 1:
                    sub[0].items.insert(0, Text(X0 + 2 * CHAR_PITCH, label, "fangsong"))
                lines += sub
        if self.minutes:
            present = [(k, data.attendance[k]) for k in ATTENDANCE_LABELS if data.attendance.get(k)]
            if present:
                lines.append(Line())
                for label, names in present:
                    lines += self.labelled(f"{label}：", "hei", names, BODY_SIZE, 2 * CHAR_PITCH)
            if data.note:
                lines += self.paragraph(f"（{data.note}）", "fangsong", 2 * CHAR_PITCH, 0)
            return lines
        # 发文机关署名 and 成文日期 with room for the seal; the last two lines of text
        # travel with them so the seal never sits on a page of its own.
        for line in lines[-2:]:
            line.keep_with_next = True
        date_text = full_date(data.date)
        date_w = self.measure(date_text, "fangsong")
        date_x = X1 - 4 * CHAR_PITCH - date_w
        centre = date_x + date_w / 2
        name_w = self.measure(data.unit_name, "fangsong")
        name_x = min(max(X0, centre - name_w / 2), X1 - name_w)
        lines += [
            Line(keep_with_next=True),
            Line(keep_with_next=True),
            Line([Text(name_x, data.unit_name, "fangsong")], keep_with_next=True, tag="name"),
            Line([Text(date_x, date_text, "fangsong")], keep_with_next=True, tag="date"),
        ]
        if data.note:
            lines += self.paragraph(f"（{data.note}）", "fangsong", 2 * CHAR_PITCH, 0)
        else:
            lines.append(Line())  # the lower edge of the seal reaches into this line
        self.seal_centre_x = centre
        return lines

    def paginate(self, lines: list[Line], first_slot: int) -> int:
        """Place the flow on the grid → the page index of the last line (the cursor is
        left in ``self.cursor``)."""
        page, slot = 0, first_slot
        index = 0
        while index < len(lines):
            line = lines[index]
            if slot >= LINES_PER_PAGE:
                page, slot = page + 1, 0
            if (
                slot == 0
                and not line.items
                and not line.tag
                and page > 0
                and not line.keep_with_next
            ):
                index += 1  # no blank line at the top of a page
                continue
            # a chain of lines kept together moves to the next page as a whole
            chain = 1
            while index + chain - 1 < len(lines) - 1 and lines[index + chain - 1].keep_with_next:
                chain += 1
            if slot > 0 and slot + chain > LINES_PER_PAGE and chain <= LINES_PER_PAGE - 4:
                page, slot = page + 1, 0
            for item in line.items:
                if item.y is None:
                    item.y = baseline(slot, item.size)
                self.out.add(page, item)
            if line.tag:
                self.tags[line.tag] = (page, slot)
            slot += 1
            index += 1
        self.cursor = (page, slot)
        return page

    # colophon (版记) ----------------------------------------------------------------

    def colophon(self) -> None:
        data = self.data
        size = COLOPHON_SIZE
        inset = CHAR_PITCH * size / BODY_SIZE  # one 4号 character
        rows: list[Line] = []
        if data.cc:
            cc = data.cc.rstrip()
            if not cc.endswith(("。", ".")):
                cc += "。"
            rows += self.labelled("抄送：", "fangsong", cc, size, inset)
        printed = not self.letter
        if printed:
            day = full_date(data.printed_on or data.date) + "印发"
            day_w = self.measure(day, "fangsong", size)
            rows.append(
                Line(
                    [
                        Text(X0 + inset, data.printed_by or data.unit_name, "fangsong", size),
                        Text(X1 - inset - day_w, day, "fangsong", size),
                    ]
                )
            )
        if not rows:
            return
        page, slot = self.cursor
        first = LINES_PER_PAGE - len(rows)
        if slot > first:
            page, slot = page + 1, 0
        for offset, row in enumerate(rows):
            for item in row.items:
                item.y = baseline(first + offset, size)
                self.out.add(page, item)
        if printed:
            self.out.add(page, Rule(X0, X1, slot_top(first), 1.0, black))  # 0.35 mm
            if data.cc:
                self.out.add(page, Rule(X0, X1, slot_top(LINES_PER_PAGE - 1), 0.7, black))
            self.out.add(page, Rule(X0, X1, Y_BOTTOM, 1.0, black))

    # all --------------------------------------------------------------------------------

    def build(self) -> SealBox | None:
        first_slot = self.header_letter() if self.letter else self.header_document()
        self.paginate(self.flow(), first_slot)
        self.colophon()
        if "name" not in self.tags:
            return None
        page, slot = self.tags["name"]
        centre_y = slot_top(slot + 1) + 0.25 * LINE_PITCH
        half = SEAL_DIAMETER / 2
        box = (
            self.seal_centre_x - half,
            centre_y - half,
            self.seal_centre_x + half,
            centre_y + half,
        )
        return SealBox(page, tuple(round(v, 2) for v in box))  # type: ignore[arg-type]


def page_number(out: Canvaslike, page: int, letter: bool) -> None:
    """ "— n —" in 4号宋体 7 mm below the block: odd pages right, even pages left, one
    character in; a letter's first page has none."""
    if letter and page == 0:
        return
    text = f"— {page + 1} —"
    size = PAGE_NUMBER_SIZE
    y = Y_BOTTOM - 7 * MM - 0.38 * size
    if page % 2 == 0:  # odd page number
        w = width(text, fonts.font_names()["song"], size, 0)
        x = X1 - size - w
    else:
        x = X0 + size
    out.add(page, Text(x, text, "song", size, spacing=0, y=y))


def draw(out: Canvaslike, data: RenderInput, names: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=1,
        pageCompression=1,
        initialFontName=names["song"],  # not Helvetica: every font is embedded
        initialFontSize=BODY_SIZE,
    )
    canvas.setTitle(data.title)
    canvas.setAuthor(data.unit_name)
    canvas.setSubject(data.doc_number)
    canvas.setCreator("GovDesk")
    for ops in out.pages:
        for op in ops:
            if isinstance(op, Rule):
                canvas.setStrokeColor(op.color)
                canvas.setLineWidth(op.thickness)
                canvas.line(op.x0, op.y, op.x1, op.y)
                continue
            # Tz and Tr are graphics state that outlives BT/ET (and reportlab omits a
            # "0 Tr" it believes redundant): every text runs inside q … Q.
            canvas.saveState()
            text = canvas.beginText(op.x, op.y)
            text.setFont(names[op.role], op.size)
            text.setCharSpace(char_space(op.size) if op.spacing is None else op.spacing)
            if op.scale != 100:
                text.setHorizScale(op.scale)
            text.setFillColor(op.color)
            if op.bold:
                text.setTextRenderMode(2)
                canvas.setStrokeColor(op.color)
                canvas.setLineWidth(op.size * 0.03)
            text.textOut(op.text)
            canvas.drawText(text)
            canvas.restoreState()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render(data: RenderInput) -> RenderResult:
    layout = Layout(data)
    seal = layout.build()
    for page in range(len(layout.out.pages)):
        page_number(layout.out, page, layout.letter)
    return RenderResult(draw(layout.out, data, layout.names), len(layout.out.pages), seal)


def input_for(document: Any) -> RenderInput:
    """The render input of a ``Document``: its fields, its unit, the names of its
    current attachments (without extension), the 签发人 of its last completed sign-off
    task, and as 成文日期 the day its number was assigned (else its last change) in
    the deployment's time zone — so rendering again gives the same date."""
    from django.utils import timezone

    from api.documents import hooks
    from api.documents.models import NumberAssignment

    assignment = (
        NumberAssignment.objects.filter(document=document, doc_number=document.doc_number)
        .order_by("-id")
        .first()
        if document.doc_number
        else None
    )
    moment = assignment.assigned_at if assignment else document.updated_at
    attachments = [
        PurePath(a.original_name).stem
        for a in document.attachments.filter(deleted_at__isnull=True).order_by("id")
    ]
    return RenderInput(
        doc_type=document.doc_type,
        title=document.title,
        unit_name=document.unit.name,
        body=list(document.body or []),
        date=timezone.localdate(moment),
        mark=document.header_text,
        doc_number=document.doc_number,
        urgency=document.urgency,
        signer=hooks.workflow.signer(document),
        main_recipients=document.main_recipients,
        attachments=attachments,
        cc=document.cc,
    )
