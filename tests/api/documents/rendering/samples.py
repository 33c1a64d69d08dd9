"""Sample inputs for the rendering tests: a demo-like notice and a long body."""

from __future__ import annotations

import datetime as dt

from api.documents.rendering.render import RenderInput

DAY = dt.date(2026, 11, 24)
NUMBER = "新府办发〔2026〕12号"
TITLE = "新城市人民政府办公室关于做好2026年冬季安全生产工作的通知"
SENTENCES = [
    "为切实做好2026年冬季安全生产工作，确保人民群众生命财产安全，现就有关事项通知如下。",
    "各区人民政府、市政府各部门要高度重视，主要负责同志要亲自部署、亲自检查。",
    "要成立工作专班，明确责任分工，落实“一岗双责”，确保各项措施落到实处。",
    "重点排查燃气、消防、道路交通、建筑施工等领域的风险隐患，建立台账，限期整改。",
]
BODY = [
    {"level": 1, "text": "一、总体要求"},
    {"level": 0, "text": SENTENCES[0] + SENTENCES[1]},
    {"level": 2, "text": "（一）加强组织领导"},
    {"level": 0, "text": SENTENCES[2]},
    {"level": 1, "text": "二、重点任务"},
    {"level": 3, "text": "1.开展隐患排查"},
    {"level": 4, "text": "（1）燃气和消防"},
    {"level": 0, "text": SENTENCES[3]},
]


def notice(**overrides) -> RenderInput:
    fields = {
        "doc_type": "notice",
        "title": TITLE,
        "unit_name": "新城市人民政府办公室",
        "body": BODY,
        "date": DAY,
        "doc_number": NUMBER,
        "urgency": "urgent",
        "main_recipients": "各区人民政府，市政府各部门",
        "attachments": ["冬季安全生产检查表"],
        "cc": "市委办公室，市人大常委会办公室",
    }
    fields.update(overrides)
    return RenderInput(**fields)


def long_body(paragraphs: int) -> list[dict]:
    return [
        {"level": 0, "text": f"第{n}段。" + SENTENCES[n % len(SENTENCES)] * 2}
        for n in range(1, paragraphs + 1)
    ]


def one_page_notice(**overrides) -> RenderInput:
    """The demo's notice, short enough for one page: header, title, body, issuing body
    and date with room for the seal, and the colophon."""
    fields = {
        "title": "关于做好冬季安全生产工作的通知",
        "body": [{"level": 0, "text": SENTENCES[0] + "请各单位认真贯彻落实。"}],
        "attachments": [],
        "cc": "市委办公室",
        "urgency": "normal",
    }
    fields.update(overrides)
    return notice(**fields)
