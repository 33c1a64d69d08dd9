"""Helpers shared by the office views. Docs: docs/personal-office.md#api."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from api.accounts.models import User
from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.schema import page_parameters

MAX_ID = 2**63 - 1
MAX_WINDOW = timedelta(days=62)
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first answer.",
)
PAGE = page_parameters()


def user_of(request: Request) -> User:
    return current_user(request)


def path_id(value: Any) -> int:
    if not 0 < int(value) <= MAX_ID:
        raise NotFound()
    return int(value)


def validated(serializer_class: type, request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if request.data else {}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def when_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = parse_datetime(raw) if len(raw) <= 40 else None
    except ValueError:
        value = None
    # Years outside the platform's life make no schedule (and a zone's pre-1900 local
    # mean time, e.g. +08:05:43, is no ISO 8601 offset).
    if value is None or not 2000 <= value.year <= 2100:
        raise ApiError(
            "validation_error",
            fields={
                name: [
                    t(
                        "须为 2000–2100 年间的 ISO 8601 时间。",
                        "Must be an ISO 8601 date-time in 2000–2100.",
                    )
                ]
            },
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def window_params(request: Request) -> tuple[datetime, datetime]:
    """``start``/``end`` (default: today and the next 7 days), at most 62 days."""
    start = when_param(request, "start")
    end = when_param(request, "end")
    if start is None:
        start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if end is None:
        end = start + timedelta(days=7)
    if end <= start or end - start > MAX_WINDOW:
        raise ApiError(
            "validation_error",
            fields={"end": [t("时间窗须为 62 天以内。", "The window must be at most 62 days.")]},
        )
    return start, end
