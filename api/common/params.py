"""Query-string parameters, validated the same way everywhere. Docs: docs/api.md#errors.

Each helper returns None for an absent or empty parameter and raises the error envelope
``validation_error`` naming the parameter for a bad one (never a 500).
"""

from __future__ import annotations

from datetime import date

from rest_framework.request import Request

from api.common.errors import ApiError
from api.common.i18n import t


def int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError("validation_error", fields={name: [t("须为正整数。", "Must be a number.")]})
    return int(raw)


def str_param(request: Request, name: str, *, max_length: int = 100) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if "\x00" in raw or len(raw) > max_length:
        raise ApiError("validation_error", fields={name: [t("取值无效。", "Invalid value.")]})
    return raw


def bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in {"1", "true", "yes"}:
        return True
    if raw.lower() in {"0", "false", "no"}:
        return False
    raise ApiError(
        "validation_error", fields={name: [t("须为 true 或 false。", "Use true/false.")]}
    )


def choice_param(request: Request, name: str, choices: list[str]) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ApiError(
            "validation_error", fields={name: [t("可选值：", "One of: ") + ", ".join(choices)]}
        )
    return raw


def date_param(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            "validation_error", fields={name: [t("日期格式为 YYYY-MM-DD。", "Use YYYY-MM-DD.")]}
        ) from None
