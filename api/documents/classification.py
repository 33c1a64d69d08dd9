"""The classification guard (DOMAIN.md rule 1): only non-classified documents travel
on the platform. Docs: docs/documents.md#classification.

``classification`` must be ``none``; any other value declares a classification and
is refused. Text fields (the title, the header text 版头, attachment file names) are
refused when they carry a classification *marking*: one of the three state-secret
levels 绝密 / 机密 / 秘密 (also in traditional characters, with spaces between the
characters as typeset headers have them, optionally followed by 级) or the English
TOP SECRET / SECRET / CONFIDENTIAL, written the way a marking is written:

* with a star (保密期限 mark): ``秘密★1年``, ``机密★``, ``绝密☆长期``, ``机密*5年``;
* inside brackets: ``【机密】``, ``（秘密）``, ``[绝密]``, ``〔机密级〕``;
* after the label 密级: ``密级：秘密``;
* standing alone as a token: the whole field, or separated by spaces, a colon, ``|``,
  ``/``, ``_``, ``-`` or a dash from the rest (``机密 关于…``, ``关于…的通知 秘密``,
  ``机密_方案.pdf``).

Ordinary words are not markings: 秘书, 秘书长, 秘鲁, 神秘, 保密, 涉密, 国家秘密,
定密 pass, and so do the dissemination notes 内部 / 内部资料 / 工作秘密, which are not
state-secret levels. The document body is not scanned: ordinary text about keeping
secrets (保守国家秘密, "绝密、机密、秘密三级") would be refused by mistake.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from api.documents.models import Classification

_LEVEL = r"(?:[绝絕]\s*密|[机機]\s*密|[秘祕]\s*密|top\s*secret|secret|confidential)(?:\s*级)?"
_STAR = r"[★☆*✱✲✳⭐]"
_OPEN = r"[【\[(（〔<《「『{]"
_CLOSE = r"[】\])）〕>》」』}]"
_SEP = r"[\s:：|/_\-—–]"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("star", re.compile(rf"{_LEVEL}\s*{_STAR}", re.IGNORECASE)),
    ("bracketed", re.compile(rf"{_OPEN}\s*{_LEVEL}\s*{_CLOSE}", re.IGNORECASE)),
    ("label", re.compile(rf"密\s*级\s*[:：]?\s*{_LEVEL}", re.IGNORECASE)),
    (
        "standalone",
        re.compile(rf"(?:^|(?<={_SEP})){_LEVEL}(?=$|{_SEP}|\.[A-Za-z0-9]+$)", re.IGNORECASE),
    ),
]


@dataclass(frozen=True)
class Marking:
    field: str
    rule: str
    text: str


def normalise(text: str) -> str:
    """NFKC (full-width letters and ＊ become plain), NUL removed, trimmed."""
    return unicodedata.normalize("NFKC", text).replace("\x00", "").strip()


def find_marking(text: str) -> tuple[str, str] | None:
    """The first classification marking in ``text`` as (rule, matched text), or None."""
    if not text:
        return None
    clean = normalise(text)
    for rule, pattern in PATTERNS:
        match = pattern.search(clean)
        if match:
            return rule, match.group(0)[:40]
    return None


def check_fields(values: dict[str, object]) -> Marking | None:
    """The first marking among the guarded fields present in ``values``:
    ``classification`` (anything but ``none``), ``title``, ``header_text``, and
    ``filename`` (an attachment's name)."""
    if "classification" in values:
        value = values["classification"]
        if value != Classification.NONE:
            return Marking("classification", "declared", str(value)[:40])
    for field in ("title", "header_text", "filename"):
        value = values.get(field)
        if isinstance(value, str):
            found = find_marking(value)
            if found:
                return Marking(field, *found)
    return None
