"""Reading the fields of another system's record by its contract: one set of readers for
every connector, each raising the connector's own "breaks the contract" error (a
permanent error for the layer: the record becomes a dead letter).

Docs: docs/integrations.md#how-to-add-a-connector.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def text(
    payload: dict[str, Any],
    name: str,
    limit: int,
    *,
    invalid: type[Exception],
    required: bool = True,
) -> str:
    """A string field of at most ``limit`` characters, stripped; non-empty if ``required``."""
    value = payload.get(name, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise invalid(f"{name}: a non-empty string of at most {limit} characters")
    return value.strip()


def when(
    payload: dict[str, Any], name: str, *, invalid: type[Exception], required: bool = False
) -> datetime | None:
    """An ISO 8601 datetime with its UTC offset (a naive one is refused), or None when
    absent and not ``required``."""
    value = payload.get(name)
    if value is None and not required:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or timezone.is_naive(parsed):
        raise invalid(f"{name}: an ISO 8601 datetime with its offset")
    return parsed


def positive_int(payload: dict[str, Any], name: str, *, invalid: type[Exception]) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid(f"{name}: a positive integer")
    return value
