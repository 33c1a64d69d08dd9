"""Changing the calendar override table (docs/workdays.md#override-table).

Only a city IT admin may add or remove an override; a refusal is audited with
``record_denied`` (outside any transaction) and answered 403. Each change is one
transaction with its audit event; the per-process calendar cache is cleared by the
model signals (api/workdays/calendar.py).
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from api.accounts.models import User
from api.accounts.roles import is_city_it_admin
from api.audit.recorder import record, record_denied
from api.common.errors import Conflict, Forbidden, NotFound
from api.workdays.models import CalendarOverride


def check_can_edit(actor: User, action: str, day: date) -> None:
    if not is_city_it_admin(actor):
        record_denied(
            action,
            actor=actor,
            object_type="workdays.calendaroverride",
            object_id=day.isoformat(),
            detail={"reason": "not_city_it_admin"},
        )
        raise Forbidden()


def add_override(actor: User, *, day: date, kind: str, name: str = "") -> CalendarOverride:
    check_can_edit(actor, "calendar.override_add", day)
    try:
        with transaction.atomic():
            if CalendarOverride.objects.select_for_update().filter(date=day).exists():
                raise Conflict("calendar_override_exists")
            override = CalendarOverride.objects.create(
                date=day, kind=kind, name=name, created_by=actor
            )
            record(
                "calendar.override_added",
                actor=actor,
                obj=override,
                detail={"date": day.isoformat(), "kind": kind, "name": name},
            )
    except IntegrityError:  # a concurrent insert of the same date won
        raise Conflict("calendar_override_exists") from None
    return override


def remove_override(actor: User, *, day: date) -> None:
    check_can_edit(actor, "calendar.override_remove", day)
    with transaction.atomic():
        override = CalendarOverride.objects.select_for_update().filter(date=day).first()
        if override is None:
            raise NotFound()
        record(
            "calendar.override_removed",
            actor=actor,
            obj=override,
            detail={"date": day.isoformat(), "kind": override.kind, "name": override.name},
        )
        override.delete()
