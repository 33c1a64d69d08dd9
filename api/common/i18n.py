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


# --- field details (docs/api.md#languages) ---------------------------------------------
# An error's ``fields`` carry, per field, a list of details for people. A detail is
# given as a ``Msg`` (or through ``t``) so that it is chosen in the response's language
# like the message itself; ``api.common.errors.envelope`` turns every ``Msg`` it finds
# into text. These are the details many endpoints share.


REQUIRED = Msg("必填。", "Required.")


def between(low: object, high: object) -> Msg:
    """A count, length or number outside ``low``–``high``."""
    return Msg(f"须在 {low}–{high} 之间。", f"Must be between {low} and {high}.")


def at_most(limit: object) -> Msg:
    return Msg(f"不能超过 {limit}。", f"At most {limit}.")


def length_between(low: object, high: object) -> Msg:
    return Msg(f"长度须为 {low}–{high} 个字符。", f"Must be {low}–{high} characters long.")


def one_of(values: object) -> Msg:
    """The value is not one of ``values`` (listed as given)."""
    listed = ", ".join(str(v) for v in values) if isinstance(values, list | tuple) else values
    return Msg(f"须为以下之一：{listed}。", f"Must be one of: {listed}.")


def not_found_ids(ids: object) -> Msg:
    """Some of the ids given do not exist (or are not visible to the caller)."""
    listed = ", ".join(str(i) for i in ids) if isinstance(ids, list | tuple | set) else ids
    return Msg(f"以下编号不存在：{listed}。", f"These ids do not exist: {listed}.")


def localise(value: object) -> object:
    """``value`` with every ``Msg`` in it (nested in dicts and lists) as text."""
    if isinstance(value, Msg):
        return str(value)
    if isinstance(value, dict):
        return {k: localise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localise(v) for v in value]
    return value
