"""The GB/T 9704 layout as a reader sees it: text extracted by pdftotext, positions
from its bounding boxes, pagination and page numbers, formats per document type,
embedded subset fonts and deterministic output (docs/rendering.md)."""

from __future__ import annotations

import io
import itertools
import re

import pytest
from pypdf import PdfReader

from api.documents.rendering import layout
from api.documents.rendering.render import SEAL_DIAMETER, render
from tests.api.documents.rendering.conftest import NEEDS_POPPLER, joined, pages_text, words
from tests.api.documents.rendering.samples import BODY, NUMBER, SENTENCES, TITLE, long_body, notice

pytestmark = NEEDS_POPPLER
PAGE_H = layout.PAGE_HEIGHT
BLOCK_BOTTOM = PAGE_H - layout.Y_BOTTOM  # from the top edge, as pdftotext measures
CENTRE = layout.PAGE_WIDTH / 2


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def find(page_words, text):
    hits = [w for w in page_words if w[4] == text]
    assert hits, f"{text!r} not among {[w[4] for w in page_words]}"
    return hits[0]


def test_text_is_extractable_exactly(tmp_path):
    result = render(notice())
    pages = pages_text(result.pdf, tmp_path)
    first = lines_of(pages[0])
    assert "新城市人民政府办公室文件" in first
    assert NUMBER in first
    assert "加急" in first
    everything = "\n".join(pages)
    lines = lines_of(everything)
    for heading in (
        "一、总体要求",
        "（一）加强组织领导",
        "二、重点任务",
        "1.开展隐患排查",
        "（1）燃气和消防",
    ):
        assert heading in lines
    flat = joined(everything)
    assert TITLE in flat
    for sentence in SENTENCES:
        assert sentence in flat
    assert "各区人民政府，市政府各部门：" in lines
    assert "附件：冬季安全生产检查表" in lines
    assert "新城市人民政府办公室" in lines
    assert "2026年11月24日" in lines
    assert "抄送：市委办公室，市人大常委会办公室。" in lines
    assert any(
        line.startswith("新城市人民政府办公室") and line.endswith("2026年11月24日印发")
        for line in lines
    )
    assert "— 1 —" in lines


def test_header_positions_on_the_first_page(tmp_path):
    result = render(notice())
    page = words(result.pdf, tmp_path)[0]
    mark = find(page, "新城市人民政府办公室文件")
    number = find(page, NUMBER)
    # the mark: top edge 35 mm below the block's top, centred, within the block
    assert mark[1] == pytest.approx(37 * layout.MM + 35 * layout.MM, abs=6)
    assert (mark[0] + mark[2]) / 2 == pytest.approx((layout.X0 + layout.X1) / 2, abs=1)
    assert mark[0] >= layout.X0 - 0.5 and mark[2] <= layout.X1 + 0.5
    # the number below the mark, centred; the urgency top-left of the block
    assert number[1] > mark[3] + 2 * layout.LINE_PITCH - 1
    assert (number[0] + number[2]) / 2 == pytest.approx((layout.X0 + layout.X1) / 2, abs=1)
    urgent = find(page, "加急")
    assert urgent[0] == pytest.approx(layout.X0, abs=0.5)
    # red: the mark and the separator rule are drawn in red, the body is not
    content = PdfReader(io.BytesIO(result.pdf)).pages[0].get_contents().get_data().decode("latin1")
    assert content.count(".901961 0 .070588 rg") == 1  # the mark's fill
    assert ".901961 0 .070588 RG" in content  # stroke: the separator rule


def test_body_lines_sit_on_the_22_line_grid(tmp_path):
    result = render(notice(body=long_body(12)))
    second = words(result.pdf, tmp_path)[1]
    tops = sorted({round(w[1], 1) for w in second if w[1] < BLOCK_BOTTOM})
    assert len(tops) == 22  # a full page: 22 lines
    gaps = [b - a for a, b in itertools.pairwise(tops)]
    assert all(gap == pytest.approx(layout.LINE_PITCH, abs=0.2) for gap in gaps)
    for x0, _, x1, _, _ in second:
        assert x0 >= layout.X0 - 0.5 and x1 <= layout.X1 + 0.5


def test_three_pages_with_page_numbers_alternating(tmp_path):
    result = render(notice(body=long_body(12), attachments=[]))
    assert result.page_count == 3
    assert len(PdfReader(io.BytesIO(result.pdf)).pages) == 3
    pages = pages_text(result.pdf, tmp_path)
    body = [line for page in pages for line in lines_of(page) if not line.startswith("— ")]
    flat = joined("".join(body))  # paragraphs run on across pages
    for paragraph in long_body(12):
        assert paragraph["text"] in flat
    boxes = words(result.pdf, tmp_path)
    for index, page in enumerate(boxes, start=1):
        assert f"— {index} —" in lines_of(pages[index - 1])
        number = find(page, str(index))
        dash = [w for w in page if w[4] == "—" and abs(w[1] - number[1]) < 3]
        assert len(dash) == 2
        # 7 mm below the block, inside the bottom margin
        assert BLOCK_BOTTOM + 3 * layout.MM < number[1] < BLOCK_BOTTOM + 12 * layout.MM
        left, right = min(d[0] for d in dash), max(d[2] for d in dash)
        if index % 2:  # odd: right, one 4号 character in
            assert right == pytest.approx(layout.X1 - 14, abs=1)
        else:
            assert left == pytest.approx(layout.X0 + 14, abs=1)
    # the colophon closes the last page: its last rule is the block's bottom edge
    assert "2026年11月24日印发" in pages[2]


def test_seal_box_covers_the_issuing_body_and_date(tmp_path):
    result = render(notice())
    seal = result.seal
    assert seal is not None
    x0, y0, x1, y1 = seal.box
    assert x1 - x0 == pytest.approx(SEAL_DIAMETER, abs=0.02)
    assert y1 - y0 == pytest.approx(SEAL_DIAMETER, abs=0.02)
    page = words(result.pdf, tmp_path)[seal.page]
    for text in ("2026年11月24日", "新城市人民政府办公室"):
        word = [w for w in page if w[4] == text and w[1] < BLOCK_BOTTOM - 30]
        assert word
        _wx0, top, _wx1, bottom, _ = word[-1]
        assert PAGE_H - top < y1 and PAGE_H - bottom > y0  # within the seal vertically
    date = [w for w in page if w[4] == "2026年11月24日"][-1]
    assert (x0 + x1) / 2 == pytest.approx((date[0] + date[2]) / 2, abs=1)
    # the date is four characters in from the right edge
    assert date[2] == pytest.approx(layout.X1 - 4 * layout.CHAR_PITCH, abs=1)
    # name and date sit a little below the seal's centre
    name = [w for w in page if w[4] == "新城市人民政府办公室" and w[1] < date[1]][-1]
    middle = PAGE_H - (name[1] + date[3]) / 2
    assert middle < (y0 + y1) / 2
    assert result.meta()["seal"] == {"page": seal.page, "box": list(seal.box)}


def test_the_seal_never_sits_on_a_page_without_text(tmp_path):
    for count in range(8, 16):
        result = render(notice(body=long_body(count), attachments=[]))
        assert result.seal is not None
        page = pages_text(result.pdf, tmp_path)[result.seal.page]
        body_lines = [line for line in lines_of(page) if line.startswith("第") or "。" in line]
        assert body_lines, f"{count} paragraphs: the seal page has no body text"


def test_upward_document_names_the_signer(tmp_path):
    result = render(
        notice(doc_type="request", signer="李明", title="关于拨付冬季安全生产经费的请示")
    )
    page = words(result.pdf, tmp_path)[0]
    number = find(page, NUMBER)
    signer = find(page, "签发人：李明")  # label in 仿宋, name in 楷体, on the number's line
    assert number[0] == pytest.approx(layout.X0 + layout.CHAR_PITCH, abs=0.5)
    assert signer[2] == pytest.approx(layout.X1 - layout.CHAR_PITCH, abs=0.5)
    assert signer[1] == pytest.approx(number[1], abs=1)
    content = PdfReader(io.BytesIO(result.pdf)).pages[0].get_contents().get_data().decode("latin1")
    assert content.count("/F") >= 3


def test_letter_format(tmp_path):
    result = render(
        notice(doc_type="letter", urgency="very_urgent", title="关于商请支持冬季安全生产检查的函")
    )
    pages = pages_text(result.pdf, tmp_path)
    first = lines_of(pages[0])
    assert first[0] == "新城市人民政府办公室"  # the name alone, no 文件
    assert "特急" in joined(pages[0])
    assert not any(line.startswith("— ") for line in first)  # no number on page 1
    assert "印发" not in joined("".join(pages))
    page = words(result.pdf, tmp_path)[0]
    number = find(page, NUMBER)
    assert number[2] == pytest.approx(layout.X1, abs=0.5)  # flush right
    mark = find(page, "新城市人民政府办公室")
    assert mark[1] == pytest.approx(30 * layout.MM, abs=6)
    content = PdfReader(io.BytesIO(result.pdf)).pages[0].get_contents().get_data().decode("latin1")
    # red double lines: 170 mm long, at the top and 20 mm above the bottom edge
    left, right = (
        (layout.PAGE_WIDTH - 170 * layout.MM) / 2,
        (layout.PAGE_WIDTH + 170 * layout.MM) / 2,
    )
    rules = [
        (float(x0), float(y), float(x1))
        for x0, y, x1 in re.findall(r"n ([\d.]+) ([\d.]+) m ([\d.]+) [\d.]+ l S", content)
    ]
    double = [y for x0, y, x1 in rules if abs(x0 - left) < 0.5 and abs(x1 - right) < 0.5]
    assert len(double) == 4
    assert sum(1 for y in double if abs(y - 20 * layout.MM) < 4) == 2  # 20 mm above the bottom
    assert sum(1 for y in double if y > PAGE_H - 60 * layout.MM) == 2  # under the mark


def test_minutes_format(tmp_path):
    result = render(
        notice(
            doc_type="minutes",
            title="新城市人民政府常务会议纪要",
            attendance={"出席": "张三，李四，王五", "列席": "赵六"},
            attachments=[],
        )
    )
    pages = pages_text(result.pdf, tmp_path)
    everything = "\n".join(pages)
    lines = lines_of(everything)
    assert lines[1] == "新城市人民政府常务会议纪要"  # after 加急: the red minutes mark
    assert NUMBER not in everything  # no 发文字号 line
    assert "出席：张三，李四，王五" in lines
    assert "列席：赵六" in lines
    assert result.seal is None


def test_fonts_are_embedded_and_subset():
    result = render(notice())
    reader = PdfReader(io.BytesIO(result.pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # embedded TrueType
            names.add(str(font["/BaseFont"]))
    assert names and all("+" in name for name in names)  # subset prefix
    assert any("UMing" in name for name in names)
    assert any("UKai" in name for name in names)
    assert any("MicroHei" in name for name in names)
    assert len(result.pdf) < 400_000


def test_output_is_deterministic():
    first = render(notice()).pdf
    assert render(notice()).pdf == first
    assert render(notice(body=[*BODY, {"level": 0, "text": "新增一段。"}])).pdf != first
