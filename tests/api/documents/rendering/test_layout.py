"""Geometry, line breaking, dates and font configuration of the renderer
(docs/rendering.md#geometry, docs/rendering.md#fonts)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest

from api.documents.rendering import checks, fonts, layout
from api.documents.rendering.render import full_date, render
from tests.api.documents.rendering.samples import notice


def test_grid_is_computed_from_the_text_block():
    mm = layout.MM
    assert pytest.approx(225 * mm) == layout.LINE_PITCH * 22
    assert pytest.approx(156 * mm) == layout.CHAR_PITCH * 28
    assert pytest.approx(28 * mm) == layout.X0
    assert pytest.approx(37 * mm) == layout.PAGE_HEIGHT - layout.Y_TOP
    assert pytest.approx(210 * mm) == layout.PAGE_WIDTH
    font = fonts.font_names()["fangsong"]
    # 28 characters of 3号 仿宋 fill the block's width exactly
    line = "国" * 28
    assert layout.width(line, font, 16, layout.char_space(16)) == pytest.approx(156 * mm)


def test_wrap_fills_28_characters_and_keeps_punctuation_off_the_line_start():
    font = fonts.font_names()["fangsong"]
    text = "一" * 27 + "二。三四"
    lines = layout.wrap(text, font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH)
    # "。" would start line 2: "二" goes with it
    assert lines == ["一" * 27, "二。三四"]
    assert layout.wrap("甲" * 56, font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH) == [
        "甲" * 28,
        "甲" * 28,
    ]
    # an opening bracket never ends a line; digits stay together
    lines = layout.wrap("一" * 27 + "（2026）", font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH)
    assert lines == ["一" * 27, "（2026）"]
    lines = layout.wrap("一" * 27 + "2026年", font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH)
    assert lines == ["一" * 27, "2026年"]  # not "…2" / "026年"
    # four half-width digits take the room of two characters
    lines = layout.wrap("一" * 26 + "2026年", font, 16, layout.BLOCK_WIDTH, layout.BLOCK_WIDTH)
    assert lines == ["一" * 26 + "2026", "年"]


def test_date_in_full_with_arabic_numerals():
    assert full_date(dt.date(2026, 11, 24)) == "2026年11月24日"
    assert full_date(dt.date(2027, 1, 5)) == "2027年1月5日"


def test_face_suffix_is_parsed():
    assert fonts.parse("/x/y.ttc#2") == (fonts.Path("/x/y.ttc"), 2)
    assert fonts.parse("/x/y.ttf") == (fonts.Path("/x/y.ttf"), 0)


def test_a_configured_font_that_is_missing_is_a_clear_error(settings):
    settings.GOVDESK_FONT_HEI = "/nonexistent/licensed/simhei.ttf"
    messages = checks.rendering_fonts_exist()
    assert [m.id for m in messages] == ["documents.E010"]
    assert "GOVDESK_FONT_HEI" in messages[0].msg and "simhei.ttf" in messages[0].msg
    with pytest.raises(fonts.FontConfigError, match="GOVDESK_FONT_HEI"):
        render(notice())


def test_a_missing_default_font_is_a_warning_at_start_up(monkeypatch):
    setting, _, purpose = fonts.ROLES["kai"]
    monkeypatch.setitem(fonts.ROLES, "kai", (setting, "/nonexistent/ukai.ttc#0", purpose))
    messages = checks.rendering_fonts_exist()
    assert [m.id for m in messages] == ["documents.W010"]
    with pytest.raises(fonts.FontConfigError, match="GOVDESK_FONT_KAI"):
        render(notice())


def test_a_file_that_is_not_a_font_is_refused(settings, tmp_path):
    bogus = tmp_path / "fake.ttf"
    bogus.write_bytes(b"not a font at all" * 10)
    settings.GOVDESK_FONT_SONG = str(bogus)
    with pytest.raises(fonts.FontConfigError, match="GOVDESK_FONT_SONG"):
        render(notice())


def test_a_configured_font_face_is_used(settings):
    settings.GOVDESK_FONT_HEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#1"
    assert fonts.spec("hei").face == 1 and fonts.spec("hei").configured
    assert not fonts.is_substitute("hei")
    assert render(notice()).pdf.startswith(b"%PDF-")


def test_render_dir_may_not_be_in_the_web_root(settings):
    settings.GOVDESK_RENDER_DIR = settings.STATIC_ROOT / "pdf"
    assert [m.id for m in checks.render_dir_outside_web_root()] == ["documents.E011"]


def _gb2312(rows: range) -> list[str]:
    chars = []
    for row in rows:
        for cell in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.append(bytes([row + 0xA0, cell]).decode("gb2312"))
    return chars


def test_every_default_face_covers_gb2312_hanzi(settings):
    """docs/rendering.md#fonts: the free defaults set any simplified text completely
    (a partial face such as cwTeX FangSong, 2,552 of 3,755 level-1 hanzi, would drop
    characters mid-sentence)."""
    from reportlab.pdfbase.ttfonts import TTFont

    level1, level2 = _gb2312(range(16, 56)), _gb2312(range(56, 88))
    assert (len(level1), len(level2)) == (3755, 3008)
    for role, (setting, _, _) in fonts.ROLES.items():
        setattr(settings, setting, "")
        font = fonts.spec(role)
        covered = TTFont(f"coverage-{role}", str(font.path), subfontIndex=font.face).face
        missing = [ch for ch in level1 + level2 if ord(ch) not in covered.charToGlyph]
        assert not missing, (role, font.path, "".join(missing[:20]))
