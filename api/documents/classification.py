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
state-secret levels.

Content (body paragraphs, attachment text) is scanned by stricter rules
(``find_content_marking``), because ordinary prose about keeping secrets
(保守国家秘密, "绝密、机密、秘密三级", "（秘密）字样") must pass: only a level with a star
(``秘密★6个月``), after the label 密级 (``密级：机密``), or standing alone at the start
or end of a line, set off from the rest by a column gap of two or more spaces or a
tab, or the whole line (a typeset marking, as
``pdftotext -layout`` gives it: ``秘密``, ``【机密】``, ``000123      绝密``).
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


# Content rules: markings as they are written in running text and on a page. The
# "line" rule is case-sensitive for English (SECRET, not "secret ballot").
_LEVEL_CASED = r"(?:[绝絕]\s*密|[机機]\s*密|[秘祕]\s*密|TOP\s*SECRET|SECRET|CONFIDENTIAL)(?:\s*级)?"
_GAP = r"(?:\s{2,}|\t)"  # a column gap, as pdftotext -layout and typeset headers have it
_TOKEN = rf"{_OPEN}?\s*{_LEVEL_CASED}\s*{_CLOSE}?"
CONTENT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("label", PATTERNS[2][1]),
    ("star", PATTERNS[0][1]),
    ("line", re.compile(rf"^\s*{_TOKEN}(?={_GAP}|\s*$)|(?<=\s\s){_TOKEN}\s*$")),
]


@dataclass(frozen=True)
class Marking:
    field: str
    rule: str
    text: str
    # Where it was found: {"paragraph": n} in the body, {"attachment": name, "page": n}
    # (or "line" for a plain-text file) in an attachment.
    place: dict[str, object] | None = None


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


def find_content_marking(text: str) -> tuple[str, str, int] | None:
    """The first marking in running text or page text as (rule, matched text, line
    number from 1), or None. Stricter than ``find_marking``: see the module doc."""
    if not text:
        return None
    for number, line in enumerate(normalise(text).splitlines(), start=1):
        for rule, pattern in CONTENT_PATTERNS:
            match = pattern.search(line)
            if match:
                return rule, match.group(0).strip()[:40], number
    return None


def describe_place(place: dict[str, object]) -> str:
    """Where a marking was found, in the request's language."""
    from api.common.i18n import t

    if "paragraph" in place:
        return t(f"正文第 {place['paragraph']} 段", f"body paragraph {place['paragraph']}")
    name = place.get("attachment", "")
    if "page" in place:
        return t(f"附件“{name}”第 {place['page']} 页", f"attachment “{name}”, page {place['page']}")
    if "line" in place:
        return t(f"附件“{name}”第 {place['line']} 行", f"attachment “{name}”, line {place['line']}")
    return t(f"附件“{name}”", f"attachment “{name}”")


def check_body(body: object) -> Marking | None:
    """The first marking in a body (a list of ``{level, text}`` paragraphs), with the
    paragraph number (from 1). Anything not shaped like a body is left to validation."""
    if not isinstance(body, list):
        return None
    for index, paragraph in enumerate(body, start=1):
        text = paragraph.get("text") if isinstance(paragraph, dict) else None
        if isinstance(text, str):
            found = find_content_marking(text)
            if found:
                rule, matched, _line = found
                return Marking("body", rule, matched, {"paragraph": index})
    return None


def check_fields(values: dict[str, object]) -> Marking | None:
    """The first marking among the guarded fields present in ``values``:
    ``classification`` (anything but ``none``), ``title``, ``header_text``,
    ``filename`` (an attachment's name) and ``body`` (its paragraphs, content rules)."""
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
    if "body" in values:
        return check_body(values["body"])
    return None
