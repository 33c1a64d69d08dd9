"""The working-day calendar of the People's Republic of China, as GovDesk uses it.

Docs: docs/workdays.md#calendar. A date is decided by, in order:

1. a ``CalendarOverride`` row (admin table; wins over everything),
2. the ``holidays`` package (``holidays.China``, category ``public``): statutory
   holidays including the 调休 days off, and its ``weekend_workdays`` — the make-up
   working Saturdays/Sundays from the State Council's yearly notice,
3. the weekly rule: Monday–Friday work, Saturday and Sunday rest.

Per-year tables are cached in process memory. Saving or deleting an override clears
this process's cache at once and again after commit, and bumps a generation stamp
in the shared Django cache; other processes notice the new stamp within
``GOVDESK_CALENDAR_RECHECK_SECONDS`` (default 5) and rebuild.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

GENERATION_KEY = "govdesk:workdays:generation"
# A run of non-working days longer than this means the calendar is broken.
MAX_NON_WORKING_RUN = 366


class DayKind:
    WORKDAY = "workday"  # an ordinary Monday–Friday
    WEEKEND = "weekend"  # an ordinary Saturday/Sunday
    HOLIDAY = "holiday"  # statutory holiday or 调休 day off
    MAKEUP = "makeup"  # 调休 make-up working day on a weekend


class Source:
    RULE = "rule"
    OFFICIAL = "official"  # the holidays package (State Council notice)
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class DayInfo:
    date: date
    working: bool
    kind: str
    source: str
    name: str = ""


_lock = threading.Lock()
_years: dict[int, dict[date, DayInfo]] = {}
_local_generation = 0  # bumped by every invalidation in this process
_shared_generation: object = None
_checked_at = float("-inf")


def _recheck_seconds() -> float:
    return float(getattr(settings, "GOVDESK_CALENDAR_RECHECK_SECONDS", 5))


def _official(year: int) -> dict[date, DayInfo]:
    table: dict[date, DayInfo] = {}
    cn = holidays.China(years=year, categories=("public",), language="zh_CN")
    for day, name in cn.items():
        if day.year == year:
            table[day] = DayInfo(day, False, DayKind.HOLIDAY, Source.OFFICIAL, str(name))
    for day in cn.weekend_workdays:
        if day.year == year:
            table[day] = DayInfo(day, True, DayKind.MAKEUP, Source.OFFICIAL, "调休上班")
    return table


def _build_year(year: int) -> dict[date, DayInfo]:
    from api.workdays.models import CalendarOverride, OverrideKind

    table = _official(year)
    overrides = CalendarOverride.objects.filter(
        date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
    ).values_list("date", "kind", "name")
    for day, kind, name in overrides:
        if kind == OverrideKind.WORKDAY:
            weekend = day.weekday() >= 5
            kind_of_day = DayKind.MAKEUP if weekend else DayKind.WORKDAY
            table[day] = DayInfo(day, True, kind_of_day, Source.OVERRIDE, name)
        else:
            table[day] = DayInfo(day, False, DayKind.HOLIDAY, Source.OVERRIDE, name)
    return table


def _weekly(day: date) -> DayInfo:
    if day.weekday() >= 5:
        return DayInfo(day, False, DayKind.WEEKEND, Source.RULE)
    return DayInfo(day, True, DayKind.WORKDAY, Source.RULE)


def _check_shared_generation() -> None:
    global _shared_generation, _checked_at
    now = time.monotonic()
    if now - _checked_at < _recheck_seconds():
        return
    try:
        generation = cache.get(GENERATION_KEY)
    except Exception:  # the cache is down: rebuild rather than risk stale data
        logger.warning("calendar generation check failed; rebuilding", exc_info=True)
        generation = object()
    with _lock:
        if generation != _shared_generation:
            _shared_generation = generation
            _clear_locked()
        _checked_at = now


def _year(year: int) -> dict[date, DayInfo]:
    table = _years.get(year)
    if table is not None:
        return table
    with _lock:
        started = _local_generation
    table = _build_year(year)
    with _lock:
        # Keep it only if no invalidation happened while it was being built.
        if started == _local_generation:
            _years[year] = table
    return table


def day_info(day: date) -> DayInfo:
    """What ``day`` is: working or not, why, and its holiday name."""
    _check_shared_generation()
    return _day_info(day)


def _day_info(day: date) -> DayInfo:
    return _year(day.year).get(day) or _weekly(day)


def is_working_day(day: date) -> bool:
    return day_info(day).working


def days_between(first: date, last: date) -> list[DayInfo]:
    """Every day from ``first`` to ``last`` inclusive."""
    _check_shared_generation()
    out = []
    day = first
    while day <= last:
        out.append(_day_info(day))
        day += timedelta(days=1)
    return out


def next_working_day(day: date, *, include_self: bool = False) -> date:
    """The first working day after ``day`` (or ``day`` itself when ``include_self``)."""
    _check_shared_generation()
    candidate = day if include_self else day + timedelta(days=1)
    for _ in range(MAX_NON_WORKING_RUN):
        if _day_info(candidate).working:
            return candidate
        candidate += timedelta(days=1)
    raise RuntimeError(f"no working day within {MAX_NON_WORKING_RUN} days of {day}")


# --- invalidation ------------------------------------------------------------------------


def _clear_locked() -> None:
    global _local_generation
    _years.clear()
    _local_generation += 1


def invalidate() -> None:
    """Forget this process's tables (the next call rebuilds them from the database)."""
    with _lock:
        _clear_locked()


def _publish() -> None:
    invalidate()
    publish_generation()


def publish_generation() -> None:
    """Tell the other processes (through the shared cache) to rebuild their tables."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # other processes rebuild anyway when their own get fails
        logger.warning("could not publish the calendar generation", exc_info=True)


def _override_changed(**_kwargs: object) -> None:
    invalidate()
    transaction.on_commit(_publish)


def connect_signals() -> None:
    from api.workdays.models import CalendarOverride

    post_save.connect(_override_changed, sender=CalendarOverride, dispatch_uid="workdays-save")
    post_delete.connect(_override_changed, sender=CalendarOverride, dispatch_uid="workdays-del")
