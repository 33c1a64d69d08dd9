"""Titles and headings break only between words (GB/T 9704-2012 §7.3.1: 回行时要做到
词意完整), read back from the PDF with pdftotext -layout (docs/rendering.md#line-breaking)."""

from __future__ import annotations

import itertools

import pytest

from api.common.search import words
from api.documents.rendering import fonts, layout
from api.documents.rendering.render import TITLE_SIZE, render
from tests.api.documents.rendering.conftest import NEEDS_POPPLER, joined, pages_text
from tests.api.documents.rendering.samples import NUMBER, notice

WINTER = "关于做好2026年冬季安全生产工作的通知"
LONG_HEADING = "一、全面开展城镇燃气管道老化更新改造和既有房屋建筑安全隐患排查整治工作"


def word_boundaries(text: str) -> set[int]:
    """The offsets in ``text`` where jieba's words meet."""
    return set(itertools.accumulate(len(w) for w in words(text)))


def breaks(lines: list[str]) -> list[int]:
    """The offsets in the joined text where each line but the last ends."""
    return list(itertools.accumulate(len(line) for line in lines))[:-1]


def title_lines(pdf: bytes, tmp_path) -> list[str]:
    """The lines between the 发文字号 and the 主送 line on page 1."""
    lines = [joined(line) for line in pages_text(pdf, tmp_path)[0].splitlines()]
    lines = [line for line in lines if line]
    start = lines.index(NUMBER) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("各区人民政府"))
    return lines[start:end]


@NEEDS_POPPLER
@pytest.mark.parametrize(
    ("title", "line_count"),
    [
        # 19 characters with half-width digits: one line with the free fonts; with a
        # licensed 小标宋 whose figures are wider it takes two (…冬季安 / 全生产… before
        # words were kept whole).
        (WINTER, None),
        # Two lines with any font; before, the breaks were 冬 / 季 and 做 / 好.
        ("关于进一步做好2026年冬季安全生产工作的通知", 2),
        ("新城市人民政府办公室关于进一步做好2026年冬季安全生产工作的通知", 2),
    ],
)
def test_a_rendered_title_breaks_between_words(tmp_path, title, line_count):
    result = render(notice(title=title))
    lines = title_lines(result.pdf, tmp_path)
    assert "".join(lines) == title
    if line_count is not None:
        assert len(lines) == line_count, lines
    boundaries = word_boundaries(title)
    for offset in breaks(lines):
        assert offset in boundaries, f"a line ends inside a word: {lines} ({words(title)})"


def test_a_long_heading_breaks_between_words():
    font = fonts.font_names()["hei"]
    indent = 2 * layout.CHAR_PITCH
    lines = layout.wrap(
        LONG_HEADING, font, 16, layout.BLOCK_WIDTH - indent, layout.BLOCK_WIDTH, whole_words=True
    )
    assert "".join(lines) == LONG_HEADING and len(lines) == 2
    boundaries = word_boundaries(LONG_HEADING)
    assert all(offset in boundaries for offset in breaks(lines)), lines


def test_a_word_wider_than_the_line_is_still_broken():
    font = fonts.font_names()["fangsong"]
    text = "GovDesk" * 12  # one "word" for jieba, wider than a line
    assert words(text) == [text]
    lines = layout.wrap(text, font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH, whole_words=True)
    assert "".join(lines) == text and len(lines) > 1
    spacing = layout.char_space(16)
    assert all(layout.width(line, font, 16, spacing) <= layout.BLOCK_WIDTH + 0.01 for line in lines)


def test_body_paragraphs_still_fill_the_line():
    """Body text keeps breaking anywhere (lines justified to 28 characters)."""
    font = fonts.font_names()["fangsong"]
    text = "为切实做好冬季安全生产工作确保人民群众生命财产安全现就有关事项通知如下"
    lines = layout.wrap(text, font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH)
    assert len(lines[0]) == 28


def test_the_title_breaks_between_words_at_any_width():
    """Whatever the title font's widths (a licensed 小标宋 sets figures wider than the
    free substitute), no width makes a line end inside a word."""
    font = fonts.font_names()["xiaobiaosong"]
    size = TITLE_SIZE
    full = layout.width(WINTER, font, size, layout.char_space(size))
    boundaries = word_boundaries(WINTER)
    wrapped = 0
    for step in range(6 * 22, int(full), 4):
        lines = layout.balanced(WINTER, font, size, step)
        assert "".join(lines) == WINTER
        wrapped += len(lines) > 1
        assert all(offset in boundaries for offset in breaks(lines)), (step, lines)
    assert wrapped
