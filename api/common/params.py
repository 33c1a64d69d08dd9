"""Query-string parameters, validated the same way everywhere.

Docs: docs/api.md#types-and-validation. Each helper returns None for an absent parameter
and raises the error envelope ``validation_error`` naming the parameter for a bad one
(never a 500, never silently ignored): an integer is ASCII digits, a boolean is ``true``
or ``false``, a date is YYYY-MM-DD, a page size is 1..the list's maximum
(``page_size=null`` or ``page_size=abc`` is a 400, not the default size). A typed
parameter given empty (``?to=``) is refused too, and any parameter given twice; only
``str_param`` reads an empty value as absent.
"""

from __future__ import annotations

from datetime import date

from rest_framework.request import Request

from api.common.errors import ApiError
from api.common.i18n import t

MAX_ID = 2**63 - 1  # the largest primary key a bigint column holds


def _once(request: Request, name: str) -> str | None:
    """The parameter's value; given more than once (``?unit=1&unit=2``) is an error, not
    whichever came last."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ApiError("validation_error", fields={name: [t("只能给出一次。", "Give it once.")]})
    return values[0] if values else None


def _empty(name: str) -> ApiError:
    return ApiError("validation_error", fields={name: [t("不能为空。", "May not be empty.")]})


def int_param(request: Request, name: str) -> int | None:
    raw = _once(request, name)
    if raw is None:
        return None
    if raw == "":
        raise _empty(name)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError("validation_error", fields={name: [t("须为正整数。", "Must be a number.")]})
    return int(raw)


def page_size_param(request: Request, name: str, *, default: int, maximum: int) -> int:
    """The page size a list endpoint serves: ``default`` when absent, 1..``maximum``."""
    size = int_param(request, name)
    if size is None:
        return default
    if not 1 <= size <= maximum:
        raise ApiError(
            "validation_error",
            fields={name: [t(f"须在 1 到 {maximum} 之间。", f"Must be 1 to {maximum}.")]},
        )
    return size


def str_param(request: Request, name: str, *, max_length: int = 100) -> str | None:
    raw = _once(request, name)
    if raw is None or raw == "":
        return None
    if "\x00" in raw or len(raw) > max_length:
        raise ApiError("validation_error", fields={name: [t("取值无效。", "Invalid value.")]})
    return raw


def bool_param(request: Request, name: str) -> bool | None:
    raw = _once(request, name)
    if raw is None:
        return None
    if raw == "":
        raise _empty(name)
    if raw == "true":
        return True
    if raw == "false":
        return False
    raise ApiError(
        "validation_error", fields={name: [t("须为 true 或 false。", "Use true/false.")]}
    )


def choice_param(request: Request, name: str, choices: list[str]) -> str | None:
    raw = _once(request, name)
    if raw is None:
        return None
    if raw == "":
        raise _empty(name)
    if raw not in choices:
        raise ApiError(
            "validation_error", fields={name: [t("可选值：", "One of: ") + ", ".join(choices)]}
        )
    return raw


def date_param(request: Request, name: str) -> date | None:
    raw = _once(request, name)
    if raw is None:
        return None
    if raw == "":
        raise _empty(name)
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            "validation_error", fields={name: [t("日期格式为 YYYY-MM-DD。", "Use YYYY-MM-DD.")]}
        ) from None
