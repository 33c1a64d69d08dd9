"""RFC 5545 recurrence, with dateutil (never hand-written). Docs:
docs/personal-office.md#recurring-events.

An event's ``rrule`` is an RRULE value ("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"). It is
expanded from the event's start in the city's time zone (Asia/Shanghai), so "every
Monday 09:00" stays 09:00 local. UNTIL must be UTC ("…;UNTIL=20270101T000000Z") as
RFC 5545 requires with a zoned DTSTART.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from django.utils import timezone

from api.common.errors import ApiError
from api.common.i18n import t

MAX_COUNT = 1000
ALLOWED_FREQ = {DAILY, WEEKLY, MONTHLY, YEARLY}
MAX_OCCURRENCES = 1000


def _bad(reason: str) -> ApiError:
    return ApiError(
        "validation_error",
        fields={"rrule": [t("重复规则无效：", "Invalid recurrence rule: ") + reason]},
    )


def parse(value: str, start: datetime) -> rrule:
    """The rule for ``value`` starting at ``start``; 400 when it is not one we accept."""
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or len(text) > 400 or "\n" in text:
        raise _bad("empty or too long")
    try:
        rule = rrulestr(text, dtstart=timezone.localtime(start))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise _bad(str(exc)[:120]) from None
    if not isinstance(rule, rrule) or rule._freq not in ALLOWED_FREQ:
        raise _bad("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    count = rule._count
    if count is not None and not 0 < count <= MAX_COUNT:
        raise _bad(f"COUNT must be 1–{MAX_COUNT}")
    return rule


def normalise(value: str) -> str:
    text = value.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text


def series_end(value: str, start: datetime, end: datetime) -> datetime | None:
    """When the last occurrence ends; None for a rule with no COUNT or UNTIL."""
    if not value:
        return end
    rule = parse(value, start)
    duration = end - start
    if rule._count is None and rule._until is None:
        return None
    last = None
    for last in rule:  # noqa: B007 - bounded by COUNT ≤ 1000 or UNTIL
        pass
    return (last + duration) if last is not None else end


def occurrences(
    value: str, start: datetime, end: datetime, window_start: datetime, window_end: datetime
) -> list[tuple[datetime, datetime]]:
    """(start, end) of every occurrence that overlaps the window."""
    duration = end - start
    if not value:
        return [(start, end)] if start < window_end and end > window_start else []
    rule = parse(value, start)
    found = []
    for occurrence in rule.between(
        timezone.localtime(window_start - duration - timedelta(seconds=1)),
        timezone.localtime(window_end),
        inc=False,
    ):
        if occurrence + duration > window_start and occurrence < window_end:
            found.append((occurrence, occurrence + duration))
        if len(found) >= MAX_OCCURRENCES:
            break
    return found
