"""The annual assessment report (年度效能考核统计报告) as a PDF, in Chinese.

Docs: docs/supervision.md#the-pdf-report. Drawn with reportlab and the renderer's
embedded CJK fonts (api/documents/rendering/fonts.py), so pdftotext returns the unit
names exactly. One table row per unit in the caller's scope, the score formula, and
each unit's deductions (the records behind them are listed by the tasks endpoint).
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.documents.rendering.fonts import font_names
from api.stats import contributions
from api.stats.compute import Period


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value}{suffix}"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _contributed_tables(
    rows: list[dict[str, Any]], meta: ParagraphStyle, head: ParagraphStyle, cell: ParagraphStyle
) -> list:
    """One table per contribution with a report title (api/stats/contributions.py)."""
    story: list = []
    for contribution in contributions.registered():
        if not contribution.report_title or not contribution.columns:
            continue
        data: list[list[Any]] = [
            [Paragraph("单位", head)]
            + [Paragraph(escape(heading), head) for _name, heading in contribution.columns]
        ]
        for row in sorted(rows, key=lambda r: r["unit"]["name"]):
            values = row.get(contribution.key) or {}
            data.append(
                [Paragraph(escape(row["unit"]["name"]), cell)]
                + [Paragraph(_fmt(values.get(name)), cell) for name, _h in contribution.columns]
            )
        rest = (267 - 62) * mm / len(contribution.columns)
        table = Table(data, colWidths=[62 * mm] + [rest] * len(contribution.columns), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [Spacer(1, 6 * mm), Paragraph(escape(contribution.report_title), meta), table]
    return story


def build_report(rows: list[dict[str, Any]], period: Period, formula: str) -> bytes:
    fonts = font_names()
    base = {"wordWrap": "CJK"}
    title = ParagraphStyle(
        "title", fontName=fonts["xiaobiaosong"], fontSize=20, leading=30, alignment=1, **base
    )
    meta = ParagraphStyle("meta", fontName=fonts["fangsong"], fontSize=11, leading=18, **base)
    cell = ParagraphStyle("cell", fontName=fonts["fangsong"], fontSize=10, leading=14, **base)
    head = ParagraphStyle("head", fontName=fonts["hei"], fontSize=10, leading=14, **base)
    now = timezone.localtime()
    story: list = [
        Paragraph("单位效能统计报告（年度绩效考核）", title),
        Paragraph(
            f"统计期间：{period.first:%Y年%m月%d日} 至 {period.last:%Y年%m月%d日}　"
            f"生成时间：{now:%Y年%m月%d日 %H:%M}",
            meta,
        ),
        Paragraph(f"效能得分公式：{escape(formula)}", meta),
        Paragraph(
            "办理用时按工作日历计算（节假日、周末不计，调休上班日计入），单位：工作小时。"
            "每项扣分均可在系统中按单位、指标和期间查询到对应的办件记录。",
            meta,
        ),
        Spacer(1, 4 * mm),
    ]
    headers = [
        "单位",
        "办件数",
        "用时中位数",
        "用时P90",
        "逾期",
        "逾期率",
        "退回率",
        "超时办理率",
        "扣分（逾期/退回/超时）",
        "效能得分",
    ]
    data: list[list[Any]] = [[Paragraph(h, head) for h in headers]]
    for row in sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0))):
        deductions = "/".join(_fmt(c["deduction"]) for c in row["components"])
        data.append(
            [
                Paragraph(escape(row["unit"]["name"]), cell),
                Paragraph(str(row["items"]), cell),
                Paragraph(_fmt(row["median_hours"]), cell),
                Paragraph(_fmt(row["p90_hours"]), cell),
                Paragraph(str(row["overdue"]), cell),
                Paragraph(_percent(row["overdue_rate"]), cell),
                Paragraph(_percent(row["return_rate"]), cell),
                Paragraph(_percent(row["slow_rate"]), cell),
                Paragraph(deductions, cell),
                Paragraph(_fmt(row["score"]), cell),
            ]
        )
    widths = [
        62 * mm,
        16 * mm,
        20 * mm,
        18 * mm,
        14 * mm,
        18 * mm,
        18 * mm,
        20 * mm,
        36 * mm,
        18 * mm,
    ]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)
    if len(data) == 1:
        story.append(Paragraph("本期间范围内没有可统计的单位。", meta))
    else:
        story += _contributed_tables(rows, meta, head, cell)
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title="单位效能统计报告",
        author="GovDesk",
    ).build(story)
    return out.getvalue()
