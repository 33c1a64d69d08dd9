"""Geometry and line breaking of the GB/T 9704-2012 layout.

Docs: docs/rendering.md#geometry. All lengths are PDF points (1/72 inch), origin at
the bottom-left corner of an A4 page. The text block (版心) is 156 × 225 mm, 37 mm
from the top edge and 28 mm from the binding (left) edge; it holds 22 lines of 28
characters of 3号 (16 pt) type, so the line pitch is 225 mm / 22 and the character
pitch 156 mm / 28 (slightly less than 16 pt: characters are set 0.21 pt tighter).
"""

from __future__ import annotations

import math
import re

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth

from api.common import search

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = A4
TOP_MARGIN = 37 * MM
LEFT_MARGIN = 28 * MM
BLOCK_WIDTH = 156 * MM
BLOCK_HEIGHT = 225 * MM
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
BODY_SIZE = 16.0  # 3号
LINE_PITCH = BLOCK_HEIGHT / LINES_PER_PAGE  # ≈ 28.99 pt
CHAR_PITCH = BLOCK_WIDTH / CHARS_PER_LINE  # ≈ 15.79 pt

X0 = LEFT_MARGIN
X1 = LEFT_MARGIN + BLOCK_WIDTH
Y_TOP = PAGE_HEIGHT - TOP_MARGIN
Y_BOTTOM = Y_TOP - BLOCK_HEIGHT

# A CJK em box runs from 0.12 em below the baseline to 0.88 em above it.
DESCENT = 0.12
ASCENT = 0.88

# 禁则: characters that may not start / end a line.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·%‰,.;:?!)]}")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_/]{0,19}|.", re.DOTALL)


def char_space(size: float) -> float:
    """Extra spacing that puts ``size``-pt CJK characters on the grid's pitch."""
    return size * (CHAR_PITCH / BODY_SIZE) - size


def slot_top(slot: int) -> float:
    return Y_TOP - slot * LINE_PITCH


def baseline(slot: int, size: float = BODY_SIZE) -> float:
    """Baseline of ``size``-pt text centred in grid line ``slot`` (0 = first line)."""
    return slot_top(slot) - LINE_PITCH + (LINE_PITCH - size) / 2 + DESCENT * size


def first_slot_below(y: float) -> int:
    """The first grid line whose top is at or below ``y``."""
    return max(0, math.ceil((Y_TOP - y) / LINE_PITCH - 1e-6))


def width(text: str, font: str, size: float, spacing: float) -> float:
    return stringWidth(text, font, size) + spacing * len(text)


def tokens(text: str) -> list[str]:
    """Break opportunities: a run of Latin letters/digits stays together (2026, 5G);
    every other character is a token of its own."""
    return _TOKEN.findall(text)


def word_tokens(text: str) -> list[str]:
    """Break opportunities between words only (jieba's precise cut, the shared
    segmenter of api/common/search.py): 关于/做好/2026/年/冬季/… — for titles and
    headings, which GB/T 9704 asks to break 词意完整."""
    return search.words(text)


def wrap(
    text: str,
    font: str,
    size: float,
    first_width: float,
    rest_width: float,
    *,
    whole_words: bool = False,
) -> list[str]:
    """Greedy line breaking with 禁则: no line starts with closing punctuation and no
    line ends with opening punctuation (a token is carried to the next line). With
    ``whole_words`` a line breaks only between jieba words; a word wider than a line
    (never in practice) is broken between its characters."""
    spacing = char_space(size)
    flat = text.replace("\n", "")
    pieces = word_tokens(flat) if whole_words else tokens(flat)
    narrowest = min(first_width, rest_width) + 0.01
    queue: list[str] = []
    for piece in pieces:
        if len(piece) > 1 and width(piece, font, size, spacing) > narrowest:
            queue.extend(tokens(piece))
        else:
            queue.append(piece)
    lines: list[str] = []
    current: list[str] = []
    available = first_width
    for token in queue:
        if not current or width("".join(current) + token, font, size, spacing) <= available + 0.01:
            current.append(token)
            continue
        carry = [token]
        while len(current) > 1 and (carry[0][0] in NO_LINE_START or current[-1][-1] in NO_LINE_END):
            carry.insert(0, current.pop())
        lines.append("".join(current))
        current = carry
        available = rest_width
    if current or not lines:
        lines.append("".join(current))
    return lines


def justified_spacing(text: str, font: str, size: float, target: float) -> float:
    """Character spacing that makes a non-final line of a paragraph end exactly at
    ``target`` width (full-width CJK lines already do; lines with Latin digits or a
    carried punctuation mark get a little more space)."""
    spacing = char_space(size)
    if len(text) < 2:
        return spacing
    slack = target - width(text, font, size, spacing)
    if slack <= 0 or slack > 2 * size:
        return spacing
    return spacing + slack / (len(text) - 1)


def balanced(text: str, font: str, size: float, max_width: float) -> list[str]:
    """Split a title into as few lines as fit, of similar length (标题排列应当使用梯形或
    菱形: no long line above a single orphaned word), breaking only between words
    (回行时要做到词意完整)."""
    lines = wrap(text, font, size, max_width, max_width, whole_words=True)
    if len(lines) < 2:
        return lines
    total = width(text, font, size, char_space(size))
    target = total / len(lines) + size  # allow one character of raggedness
    narrower = wrap(text, font, size, target, target, whole_words=True)
    return narrower if len(narrower) == len(lines) else lines
