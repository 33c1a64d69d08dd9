"""Validation of document field values, shared by the serializers and the actions
(which are also called from code, e.g. the workflow engine and seeders).
Docs: docs/documents.md#body-format.
"""

from __future__ import annotations

from typing import Any

from api.common.errors import ApiError
from api.common.i18n import t
from api.documents.models import DocType, Urgency

MAX_PARAGRAPHS = 2000
MAX_PARAGRAPH_CHARS = 20_000
MAX_LENGTHS = {"title": 200, "main_recipients": 500, "cc": 500, "header_text": 200}


def bad_text(value: str) -> bool:
    """NUL or lone surrogates: not storable in PostgreSQL text."""
    return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)


def _field_error(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def clean_body(value: Any) -> list[dict[str, Any]]:
    """A body is a list of paragraphs ``{"level": 0..4, "text": str}``."""
    if not isinstance(value, list):
        raise _field_error("body", "正文须为段落列表。", "The body must be a list of paragraphs.")
    if len(value) > MAX_PARAGRAPHS:
        raise _field_error("body", "段落过多。", f"At most {MAX_PARAGRAPHS} paragraphs.")
    cleaned = []
    for index, paragraph in enumerate(value):
        if not isinstance(paragraph, dict) or set(paragraph) != {"level", "text"}:
            raise _field_error(
                "body",
                f"第 {index + 1} 段须为 {{level, text}}。",
                f"Paragraph {index + 1} must be an object with exactly level and text.",
            )
        level, text = paragraph["level"], paragraph["text"]
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 4:
            raise _field_error(
                "body",
                f"第 {index + 1} 段的 level 须为 0–4。",
                f"Paragraph {index + 1}: level must be 0-4.",
            )
        if not isinstance(text, str) or len(text) > MAX_PARAGRAPH_CHARS or bad_text(text):
            raise _field_error(
                "body",
                f"第 {index + 1} 段的 text 无效。",
                f"Paragraph {index + 1}: text must be a string of at most "
                f"{MAX_PARAGRAPH_CHARS} characters.",
            )
        cleaned.append({"level": level, "text": text})
    return cleaned


def clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """Check choices, lengths and the body of the given fields (classification is the
    guard's business: api/documents/classification.py)."""
    cleaned = dict(values)
    if "doc_type" in values and values["doc_type"] not in DocType.values:
        raise _field_error("doc_type", "公文种类无效。", "Unknown document type.")
    if "urgency" in values and values["urgency"] not in Urgency.values:
        raise _field_error("urgency", "紧急程度无效。", "Unknown urgency.")
    for name, limit in MAX_LENGTHS.items():
        if name in values:
            value = values[name]
            if not isinstance(value, str) or len(value) > limit or bad_text(value):
                raise _field_error(name, "取值无效或过长。", f"Must be text of at most {limit}.")
    if "title" in values and not values["title"].strip():
        raise _field_error("title", "标题不能为空。", "The title may not be blank.")
    if "body" in values:
        cleaned["body"] = clean_body(values["body"])
    return cleaned
