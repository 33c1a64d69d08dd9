"""Bilingual messages: zh-Hans by default, English when Accept-Language asks for it.

Docs: docs/api.md#languages. Messages for our own stable error codes live here as
pairs so no gettext build step is needed; Django's and DRF's own validation
messages come from their shipped zh_Hans catalogues through LocaleMiddleware.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation


@dataclass(frozen=True)
class Msg:
    zh: str
    en: str

    def __str__(self) -> str:
        return self.en if is_english() else self.zh

    def format(self, **kwargs: object) -> str:
        return str(self).format(**kwargs)


def is_english() -> bool:
    lang = translation.get_language() or "zh-hans"
    return lang.lower().startswith("en")


def t(zh: str, en: str) -> str:
    """Pick the message for the active language."""
    return en if is_english() else zh
