"""Fonts of the GB/T 9704 renderer: five roles, each a TrueType file (or a face of a
TrueType collection) embedded and subset in every PDF.

Docs: docs/rendering.md#fonts. Each role has a setting (``GOVDESK_FONT_SONG``,
``GOVDESK_FONT_FANGSONG``, ``GOVDESK_FONT_KAI``, ``GOVDESK_FONT_HEI``,
``GOVDESK_FONT_XIAOBIAOSONG``): a path, optionally followed by ``#N`` to pick face N of
a ``.ttc`` collection. Empty means the free Debian default. A configured path that does
not exist is a system-check error at start-up (``documents.E010``) and
``FontConfigError`` at the first render; a missing default is a warning
(``documents.W010``) at start-up and the same error at render time.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

ARPHIC = "/usr/share/fonts/truetype/arphic"
WQY = "/usr/share/fonts/truetype/wqy"

# role → (setting name, Debian default "path#face", what the standard asks for)
ROLES: dict[str, tuple[str, str, str]] = {
    "song": ("GOVDESK_FONT_SONG", f"{ARPHIC}/uming.ttc#0", "宋体 (page numbers)"),
    "fangsong": ("GOVDESK_FONT_FANGSONG", f"{ARPHIC}/uming.ttc#0", "仿宋_GB2312 (body)"),
    "kai": ("GOVDESK_FONT_KAI", f"{ARPHIC}/ukai.ttc#0", "楷体_GB2312 (level-2 headings)"),
    "hei": ("GOVDESK_FONT_HEI", f"{WQY}/wqy-microhei.ttc#0", "黑体 (level-1 headings)"),
    "xiaobiaosong": (
        "GOVDESK_FONT_XIAOBIAOSONG",
        f"{ARPHIC}/uming.ttc#0",
        "方正小标宋 (issuing-body mark, title)",
    ),
}


class FontConfigError(ImproperlyConfigured):
    """A font file the renderer needs is missing or unreadable."""


@dataclass(frozen=True)
class FontSpec:
    role: str
    setting: str
    path: Path
    face: int
    configured: bool  # False: the Debian default is used

    @property
    def reportlab_name(self) -> str:
        # The name encodes the file, so a changed setting registers a new font.
        digest = hashlib.sha256(f"{self.path}#{self.face}".encode()).hexdigest()[:10]
        return f"GovDesk-{self.role}-{digest}"


def parse(value: str) -> tuple[Path, int]:
    """``/x/y.ttc#2`` → (Path('/x/y.ttc'), 2); no suffix → face 0."""
    path, sep, face = value.rpartition("#")
    if sep and face.isdigit():
        return Path(path), int(face)
    return Path(value), 0


def spec(role: str) -> FontSpec:
    setting, default, _ = ROLES[role]
    raw = str(getattr(settings, setting, "") or "")
    path, face = parse(raw or default)
    return FontSpec(role, setting, path, face, configured=bool(raw))


def problems() -> list[tuple[FontSpec, str]]:
    """Every role whose file is missing, with a message naming the setting."""
    found = []
    for role in ROLES:
        font = spec(role)
        if not font.path.is_file():
            where = "configured by" if font.configured else "the default of"
            found.append(
                (
                    font,
                    f"font file {font.path} ({where} {font.setting}, {ROLES[role][2]}) "
                    "does not exist",
                )
            )
    return found


_lock = threading.Lock()
_registered: set[str] = set()


def is_substitute(role: str) -> bool:
    """True when the role uses the free default instead of a configured font."""
    return not spec(role).configured


def font_names() -> dict[str, str]:
    """Register the five fonts with reportlab (once per file) → role → font name.

    Raises ``FontConfigError`` naming the setting when a file is missing or is not a
    TrueType font/collection with that face."""
    names: dict[str, str] = {}
    with _lock:
        for role in ROLES:
            font = spec(role)
            name = font.reportlab_name
            if name not in _registered:
                if not font.path.is_file():
                    raise FontConfigError(dict(problems())[font])
                try:
                    pdfmetrics.registerFont(TTFont(name, str(font.path), subfontIndex=font.face))
                except Exception as exc:  # reportlab raises TTFError and friends
                    raise FontConfigError(
                        f"font file {font.path} (face {font.face}, {font.setting}) "
                        f"cannot be used: {exc}"
                    ) from exc
                _registered.add(name)
            names[role] = name
    return names
