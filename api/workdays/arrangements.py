"""Yearly holiday arrangements: importing the State Council notice into the override
table, and whether a year's arrangement is published. Docs: docs/workdays.md#yearly-arrangement.

A year is *published* when the ``holidays`` package carries the State Council's
notice for it (its static 调休 table, ``ChinaStaticHolidays.special_public_holidays``,
has the year) or a city IT admin imported it (a ``HolidayArrangement`` row). Without
either, the calendar of that year is only the package's rule-based guess (statutory
days, no 调休 make-up working days) — so a warning is raised for next year (relative
to today, Asia/Shanghai) and for the current year, in ``GET /api/v1/health/`` and in
the calendar API the admin uses.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from holidays.countries.china import ChinaStaticHolidays

from api.accounts.models import User
from api.accounts.roles import is_city_it_admin
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Forbidden
from api.common.i18n import t
from api.workdays import calendar
from api.workdays.deadlines import TZ
from api.workdays.models import CalendarOverride, HolidayArrangement, OverrideKind

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_DAYS = 366


def package_years() -> set[int]:
    """Years whose State Council notice the installed ``holidays`` package carries."""
    return set(getattr(ChinaStaticHolidays, "special_public_holidays", {}) or {})


def is_published(year: int) -> bool:
    return year in package_years() or HolidayArrangement.objects.filter(year=year).exists()


def today() -> date:
    """Today in Asia/Shanghai (the one place the warnings read the clock; tests
    replace it)."""
    return datetime.now(TZ).date()


def warnings(on: date | None = None) -> list[dict]:
    """``[{code: "holiday_arrangement_missing", year, message}]`` for the current and
    the next year (relative to ``on``, default ``today()``) when their arrangement is
    not published."""
    on = on or today()
    found = []
    for year in (on.year, on.year + 1):
        if not is_published(year):
            found.append(
                {
                    "code": "holiday_arrangement_missing",
                    "year": year,
                    "message": t(
                        f"{year} 年的国务院节假日安排尚未录入：该年日历只按法定节日推算，"
                        "没有调休上班日。请城市信息化管理员导入当年安排"
                        "（POST /api/v1/calendar/arrangements/）。",
                        f"The State Council holiday arrangement for {year} has not been "
                        "imported: that year's calendar is guessed from the statutory "
                        "holidays, with no make-up working days. A city IT admin imports it "
                        "with POST /api/v1/calendar/arrangements/.",
                    ),
                }
            )
    return found


def _invalid(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def _clean_days(year: int, days: list[dict]) -> list[tuple[date, str, str]]:
    if not days:
        raise _invalid("days", "至少需要一天。", "At least one day is required.")
    if len(days) > MAX_DAYS:
        raise _invalid("days", f"最多 {MAX_DAYS} 天。", f"At most {MAX_DAYS} days.")
    seen: set[date] = set()
    cleaned = []
    for index, day in enumerate(days, start=1):
        when: date = day["date"]
        if when.year != year:
            raise _invalid(
                "days",
                f"第 {index} 项 {when} 不在 {year} 年内。",
                f"Item {index}: {when} is not in {year}.",
            )
        if when in seen:
            raise _invalid(
                "days", f"第 {index} 项 {when} 重复。", f"Item {index}: {when} appears twice."
            )
        seen.add(when)
        cleaned.append((when, day["kind"], day.get("name", "")))
    if not any(kind == OverrideKind.HOLIDAY for _, kind, _ in cleaned):
        raise _invalid("days", "安排中没有放假日。", "The arrangement has no holiday.")
    return sorted(cleaned)


def import_arrangement(
    actor: User, *, year: int, days: list[dict], notice: str = ""
) -> HolidayArrangement:
    """Replace ``year``'s overrides with the arrangement's ``days`` (``{date, kind,
    name}``; every date in ``year``), in one transaction with its audit event; a city
    IT admin only (403, audited). The year's earlier overrides are removed (listed in
    the audit detail), so importing a corrected notice again leaves exactly it."""
    if not is_city_it_admin(actor):
        record_denied(
            "calendar.arrangement_import",
            actor=actor,
            object_type="workdays.holidayarrangement",
            object_id=str(year),
            detail={"reason": "not_city_it_admin"},
        )
        raise Forbidden()
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _invalid("year", f"年份须在 {FIRST_YEAR}–{LAST_YEAR}。", "Year out of range.")
    cleaned = _clean_days(year, days)
    with transaction.atomic():
        existing = CalendarOverride.objects.select_for_update().filter(date__year=year)
        removed = [f"{o.date.isoformat()} {o.kind} {o.name}".strip() for o in existing]
        existing.delete()
        CalendarOverride.objects.bulk_create(
            CalendarOverride(date=when, kind=kind, name=name, created_by=actor)
            for when, kind, name in cleaned
        )
        arrangement, _ = HolidayArrangement.objects.update_or_create(
            year=year,
            defaults={
                "notice": notice,
                "day_count": len(cleaned),
                "imported_by": actor,
                "imported_at": timezone.now(),
            },
        )
        record(
            "calendar.arrangement_imported",
            actor=actor,
            obj=arrangement,
            detail={
                "year": year,
                "notice": notice,
                "holidays": sum(1 for _, kind, _ in cleaned if kind == OverrideKind.HOLIDAY),
                "workdays": sum(1 for _, kind, _ in cleaned if kind == OverrideKind.WORKDAY),
                "removed": removed,
            },
        )
        # bulk_create sends no post_save: clear the calendar tables here and everywhere.
        calendar.invalidate()
        transaction.on_commit(calendar.invalidate)
        transaction.on_commit(calendar.publish_generation)
    return arrangement
