"""Shared pieces of the publishing views. Docs: docs/publishing.md#api."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from api.accounts.models import User
from api.common.errors import NotFound
from api.common.schema import page_parameters

TAGS = ["publishing"]
MAX_ID = 2**63 - 1
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response with "
    "`Idempotent-Replayed: true`.",
)
PAGE_PARAMETERS = page_parameters()


def actor(request: Request) -> User:
    return cast(User, request.user)


def path_id(value: Any) -> int:
    if not 0 < int(value) <= MAX_ID:
        raise NotFound()
    return int(value)


def validated(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if request.data else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
