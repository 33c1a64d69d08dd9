"""Every state change of the emergency connector: apply an event version, keep the duty
roster, acknowledge a handling record. Docs: docs/integrations.md#emergency.

``apply_event`` is the connector's ``handle`` (the layer calls it in a transaction with
the receipt row locked). The first version of an event that reaches GovDesk — whatever
its sequence — creates the handling record and, in the same transaction, a very urgent
notification (``api.notify.actions.notify``: in-app at once, push through the worker,
SMS even in quiet hours) to every officer on duty in the city's duty office now, or to
its unit admins (else its leaders) when nobody is on duty. Every version is appended
once (unique per sequence); the record's facts follow the highest sequence, so a late
older version is kept in the timeline without overwriting newer facts. Updates are told
to the same people (urgency high).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.accounts import roles
from api.accounts.models import Unit, User
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import Msg, t
from api.integrations.emergency import selectors
from api.integrations.emergency.events import EventData, parse_event
from api.integrations.emergency.models import (
    DutyAssignment,
    EventLevel,
    EventUpdate,
    HandlingRecipient,
    HandlingRecord,
    HandlingState,
)


class NoDutyUnit(RuntimeError):
    """There is no unit at all to send the event to (an empty organisation)."""


def _title(event: EventData, update: bool) -> str:
    level = EventLevel(event.level).label
    prefix = "【应急·续报】" if update else "【应急】"
    return f"{prefix}{event.event_type}（{level}）{event.place}"[:200]


def _tell(record_: HandlingRecord, people: list[User], event: EventData, *, update: bool) -> int:
    from api.notify.actions import notify

    told = 0
    for person in people:
        created = notify(
            recipient=person,
            kind="system",
            title=_title(event, update),
            body=event.summary,
            urgency="high" if update else "very_urgent",
            dedup_key=(
                f"emergency:{record_.event_id}#{event.sequence}"
                if update
                else f"emergency:{record_.event_id}"
            ),
        )
        told += created is not None
    return told


def apply_event(source_id: str, payload: dict[str, Any]) -> str:
    """Append one version of an event; returns ``created``, ``appended`` or
    ``duplicate`` (this sequence was already appended)."""
    event = parse_event(payload)
    now = timezone.now()
    with transaction.atomic():
        found = HandlingRecord.objects.select_for_update().filter(event_id=event.event_id).first()
        created = found is None
        if found is None:
            unit = selectors.duty_unit()
            if unit is None:
                raise NoDutyUnit("no unit to send emergency events to")
            try:
                # A savepoint: two versions of a new event processed at once race here.
                with transaction.atomic():
                    found = HandlingRecord.objects.create(
                        event_id=event.event_id,
                        sequence=event.sequence,
                        event_type=event.event_type,
                        level=event.level,
                        place=event.place,
                        occurred_at=event.occurred_at,
                        summary=event.summary,
                        duty_unit=unit,
                        created_at=now,
                        updated_at=now,
                    )
            except IntegrityError:
                created = False
                found = HandlingRecord.objects.select_for_update().get(event_id=event.event_id)
        handling = found
        if EventUpdate.objects.filter(record=handling, sequence=event.sequence).exists():
            return "duplicate"
        EventUpdate.objects.create(
            record=handling,
            sequence=event.sequence,
            level=event.level,
            place=event.place,
            summary=event.summary,
            sent_at=event.sent_at,
            received_at=now,
        )
        if created:
            officers = selectors.officers_on_duty(handling.duty_unit, now)
            people = officers or selectors.fallback_people(handling.duty_unit)
            HandlingRecipient.objects.bulk_create(
                [HandlingRecipient(record=handling, user=p, on_duty=bool(officers)) for p in people]
            )
            told = _tell(handling, people, event, update=False)
        else:
            if event.sequence > handling.sequence:
                HandlingRecord.objects.filter(pk=handling.pk).update(
                    sequence=event.sequence,
                    event_type=event.event_type,
                    level=event.level,
                    place=event.place,
                    occurred_at=event.occurred_at,
                    summary=event.summary,
                    updated_at=now,
                )
            ids = HandlingRecipient.objects.filter(record=handling).values("user_id")
            told = _tell(handling, list(User.objects.filter(pk__in=ids)), event, update=True)
        record(
            "emergency.event_received",
            obj=handling,
            unit_id=handling.duty_unit_id,
            detail={
                "event_id": event.event_id,
                "sequence": event.sequence,
                "created": created,
                "told": told,
            },
        )
    return "created" if created else "appended"


# --- acknowledging ----------------------------------------------------------------------


def acknowledge(record_id: int, actor: User) -> HandlingRecord:
    """The duty officer signs for the event (签收). Once: a repeat returns it unchanged."""
    handling = selectors.record_or_404(actor, record_id, "emergency.acknowledge")
    if not selectors.may_acknowledge(actor, handling):
        record_denied(
            "emergency.acknowledge", actor=actor, obj=handling, detail={"reason": "not_recipient"}
        )
        raise Forbidden()
    with transaction.atomic():
        locked = HandlingRecord.objects.select_for_update().get(pk=handling.pk)
        if locked.state == HandlingState.ACKNOWLEDGED:
            return locked
        now = timezone.now()
        locked.state = HandlingState.ACKNOWLEDGED
        locked.acknowledged_by = actor
        locked.acknowledged_at = now
        locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at"])
        record("emergency.acknowledged", actor=actor, obj=locked, unit_id=locked.duty_unit_id)
    return locked


# --- the duty roster --------------------------------------------------------------------


def _field_error(name: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={name: [t(zh, en)]})


def add_duty(
    actor: User, *, unit_id: int, day: date, shift: str, officer_id: int
) -> DutyAssignment:
    """A unit admin puts one of the unit's people on a shift."""
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None or not roles.can_manage_unit(actor, unit):
        record_denied(
            "emergency.duty_add", actor=actor, detail={"unit_id": unit_id, "reason": "not_admin"}
        )
        raise Forbidden()
    officer = User.objects.filter(pk=officer_id, is_active=True).select_related("unit").first()
    if officer is None or not roles.within(officer.unit, unit):
        raise _field_error(
            "officer_id",
            "值班人员须为本单位在岗人员。",
            "The officer must be an active member of the unit.",
        )
    try:
        with transaction.atomic():
            duty = DutyAssignment.objects.create(
                unit=unit, day=day, shift=shift, officer=officer, created_by=actor
            )
            record(
                "emergency.duty_added",
                actor=actor,
                obj=duty,
                unit_id=unit.pk,
                detail={"day": day.isoformat(), "shift": shift, "officer_id": officer.pk},
            )
    except IntegrityError:
        raise Conflict(
            "duty_exists",
            Msg("该人员已排在此班次。", "This officer is already on this shift."),
        ) from None
    return duty


def remove_duty(actor: User, duty_id: int) -> None:
    duty = DutyAssignment.objects.filter(pk=duty_id).select_related("unit").first()
    if duty is None or not selectors.visible_duty(actor).filter(pk=duty_id).exists():
        if duty is not None:
            record_denied(
                "emergency.duty_remove", actor=actor, obj=duty, detail={"reason": "outside_scope"}
            )
        raise NotFound()
    if not roles.can_manage_unit(actor, duty.unit):
        record_denied(
            "emergency.duty_remove", actor=actor, obj=duty, detail={"reason": "not_admin"}
        )
        raise Forbidden()
    with transaction.atomic():
        DutyAssignment.objects.filter(pk=duty.pk).delete()
        record(
            "emergency.duty_removed",
            actor=actor,
            object_type="emergency.dutyassignment",
            object_id=duty_id,
            unit_id=duty.unit_id,
            detail={
                "day": duty.day.isoformat(),
                "shift": duty.shift,
                "officer_id": duty.officer_id,
            },
        )
