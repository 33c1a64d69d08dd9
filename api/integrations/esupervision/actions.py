"""Every state change of e-supervision (电子监察): apply a stage event, evaluate an item
against its legal time limit, raise alerts into supervision. Docs:
docs/integrations.md#e-supervision.

Events reach ``handle`` through the connector layer (api/integrations), which stores
each event once by its event id and calls ``handle`` inside a transaction; ``handle``
locks the service item row, so two events of one item never interleave. An event with
an unknown unit code or a malformed field raises ``EventRejected`` (a permanent error:
the record goes to the dead-letter list; after the integrator maps the code, replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api.accounts import roles
from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.recorder import record
from api.common.datetimes import client_datetime
from api.integrations import payloads
from api.integrations.esupervision import rules
from api.integrations.esupervision.models import (
    STAGE_LABELS,
    STAGES,
    Alert,
    Level,
    ServiceItem,
    StageEvent,
    UnitCode,
)

MAX_LIMIT_DAYS = 366  # api.workdays.deadlines.MAX_DAYS
ID_LENGTH = 64


class EventRejected(ValueError):
    """A stage event that can never be applied as sent (a permanent error)."""


@dataclass(frozen=True)
class Event:
    event_id: str
    item_id: str
    service_name: str
    unit_code: str
    stage: str
    occurred_at: datetime
    limit_days: int


def source_id_of(payload: dict[str, Any]) -> str:
    """The connector layer's source id of an event: its ``event_id``."""
    return payloads.text(payload, "event_id", ID_LENGTH, invalid=EventRejected)


def parse_event(payload: dict[str, Any]) -> Event:
    if not isinstance(payload, dict):
        raise EventRejected("an event is a JSON object")
    stage = payload.get("stage")
    if stage not in STAGES:
        raise EventRejected(f"stage: one of {', '.join(STAGES)}")
    raw_time = payload.get("occurred_at")
    occurred = parse_datetime(raw_time) if isinstance(raw_time, str) else None
    if occurred is None or timezone.is_naive(occurred):
        raise EventRejected("occurred_at: an ISO 8601 date-time with its UTC offset")
    limit = payload.get("limit_days")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT_DAYS:
        raise EventRejected(f"limit_days: an integer from 1 to {MAX_LIMIT_DAYS}")
    return Event(
        event_id=source_id_of(payload),
        item_id=payloads.text(payload, "item_id", ID_LENGTH, invalid=EventRejected),
        service_name=payloads.text(payload, "service_name", 200, invalid=EventRejected),
        unit_code=payloads.text(payload, "unit_code", 40, invalid=EventRejected),
        stage=stage,
        occurred_at=occurred,
        limit_days=limit,
    )


def resolve_unit(code: str) -> Unit | None:
    """The integrator's mapping first (``UnitCode``), else the unit with that code."""
    mapped = UnitCode.objects.filter(code=code, unit__is_active=True).select_related("unit")
    first = mapped.first()
    if first is not None:
        return first.unit
    return Unit.objects.filter(code=code, is_active=True).first()


def handle(source_id: str, payload: dict[str, Any]) -> None:
    """The connector's ``handle``: apply one stage event (idempotent by event id)."""
    event = parse_event(payload)
    if event.event_id != source_id:
        raise EventRejected("event_id differs from the record's source id")
    apply_event(event)


def _working_seconds(a: datetime, b: datetime) -> int:
    from api.workdays import working_seconds_between

    return int(working_seconds_between(a, b))


def _locked_item(event: Event, unit: Unit) -> ServiceItem:
    try:
        with transaction.atomic():
            item, _created = ServiceItem.objects.get_or_create(
                external_id=event.item_id,
                defaults={
                    "service_name": event.service_name,
                    "unit": unit,
                    "unit_code": event.unit_code,
                    "limit_days": event.limit_days,
                    "stage": event.stage,
                },
            )
    except IntegrityError:
        # Another worker created it between our read and insert: it exists now.
        item = ServiceItem.objects.get(external_id=event.item_id)
    return ServiceItem.objects.select_for_update().get(pk=item.pk)


def apply_event(event: Event, *, now: datetime | None = None) -> ServiceItem | None:
    """Record one stage event and re-evaluate its item. A duplicate event id changes
    nothing; an event for a stage that already has its time is kept but not applied
    (the first time stands); a stage never moves back; a late event fills in a
    missing stage time."""
    now = now or timezone.now()
    with transaction.atomic():
        unit = resolve_unit(event.unit_code)
        if unit is None:
            raise EventRejected(f"unit_code {event.unit_code!r} maps to no GovDesk unit")
        if StageEvent.objects.filter(event_id=event.event_id).exists():
            return None
        item = _locked_item(event, unit)
        applied = item.stage_at(event.stage) is None
        if applied:
            setattr(item, f"{event.stage}_at", event.occurred_at)
        StageEvent.objects.create(
            event_id=event.event_id,
            item=item,
            stage=event.stage,
            occurred_at=event.occurred_at,
            received_at=now,
            applied=applied,
        )
        raised = _evaluate(item, now=now, as_of=None)
        record(
            "esupervision.event_received",
            obj=item,
            detail={
                "event_id": event.event_id,
                "item_id": item.external_id,
                "stage": event.stage,
                "occurred_at": client_datetime(event.occurred_at),
                "applied": applied,
                "stage_now": item.stage,
                "alerts": raised,
            },
        )
    return item


def _times(item: ServiceItem) -> dict[str, datetime | None]:
    return {stage: item.stage_at(stage) for stage in STAGES}


def _evaluate(item: ServiceItem, *, now: datetime, as_of: datetime | None) -> list[str]:
    """Recompute a locked item's stage times, due time, used time and level, save it,
    and raise the alerts it newly reached. ``as_of`` (the beat task) evaluates an open
    item at that moment; otherwise at its latest known event, so events arriving late
    or out of order never raise an alert their own times do not justify."""
    from api.workdays.deadlines import add_working_days, clock_start

    times = _times(item)
    known = [moment for moment in times.values() if moment is not None]
    item.stage = rules.furthest_stage(times)
    for stage, seconds in rules.stage_seconds(times, _working_seconds).items():
        setattr(item, f"{stage}_seconds", seconds)
    # Until acceptance is known, the earliest known event stands in for it (never earlier
    # than the true acceptance, so the time used is never overstated).
    start = item.accept_at or min(known)
    item.due_at = add_working_days(item.accept_at, item.limit_days) if item.accept_at else None
    completed = item.complete_at is not None
    end: datetime
    if item.complete_at is not None:
        end = item.complete_at
    else:
        end = max([*known, as_of]) if as_of is not None else max(known)
    item.used_seconds = _working_seconds(clock_start(start), end)
    item.on_time = (item.used_seconds <= item.limit_days * rules.DAY_SECONDS) if completed else None
    reached = rules.level_of(
        item.used_seconds,
        item.limit_days,
        completed=completed,
        thresholds=rules.Thresholds.from_settings(),
    )
    # Alerts are never withdrawn: the stored level only rises.
    item.level = rules.higher(item.level, reached)
    item.updated_at = now
    item.save()
    return raise_alerts(item, now=now)


def raise_alerts(item: ServiceItem, *, now: datetime) -> list[str]:
    """Create the alerts of every level the locked item has reached and lacks (once per
    item and level), each opening a supervised item for the unit; also retry opening
    one for an earlier alert that found no supervisor. The levels newly raised."""
    existing = {alert.level: alert for alert in Alert.objects.filter(item=item)}
    raised = []
    for level in rules.levels_up_to(item.level):
        alert = existing.get(level)
        if alert is None:
            alert = Alert.objects.create(
                item=item,
                unit_id=item.unit_id,
                level=level,
                raised_at=now,
                used_seconds=item.used_seconds,
            )
            raised.append(level)
            record(
                "esupervision.alert_raised",
                obj=alert,
                detail={
                    "item_id": item.external_id,
                    "level": level,
                    "used_seconds": item.used_seconds,
                    "limit_days": item.limit_days,
                },
            )
        if alert.supervised_item_id is None:
            _open_supervised_item(alert, item, now)
    return raised


def supervisor_for(unit: Unit) -> User | None:
    """Who opens the supervised item: ``GOVDESK_ESUPERVISION_SUPERVISOR`` when that
    account supervises the unit, else the supervisor (督查人员) of the nearest unit
    above it (lowest user id on a tie)."""
    username = settings.GOVDESK_ESUPERVISION_SUPERVISOR
    if username:
        configured = User.objects.filter(username=username, is_active=True).first()
        if configured is not None and roles.can_supervise_unit(configured, unit):
            return configured
    candidates = [
        a
        for a in RoleAssignment.objects.filter(role=Role.SUPERVISOR, user__is_active=True)
        .select_related("unit", "user")
        .order_by("user_id")
        if roles.within(unit, a.unit)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda a: (a.unit.depth, -a.user_id)).user


def _open_supervised_item(alert: Alert, item: ServiceItem, now: datetime) -> None:
    from api.supervision.actions import create_item
    from api.supervision.models import Source
    from api.workdays.deadlines import add_working_days

    supervisor = supervisor_for(item.unit)
    if supervisor is None:
        record(
            "esupervision.alert_unassigned",
            obj=alert,
            detail={"item_id": item.external_id, "level": alert.level, "reason": "no_supervisor"},
        )
        return
    label = Level(alert.level).label
    stage = STAGE_LABELS.get(item.stage, item.stage)
    due = f"，法定期限 {timezone.localtime(item.due_at):%Y-%m-%d %H:%M}" if item.due_at else ""
    instruction = (
        f"电子监察{label}：{item.service_name}（办件编号 {item.external_id}），"
        f"当前环节 {stage}，已用 {item.used_seconds / rules.DAY_SECONDS:.1f} 个工作日，"
        f"法定时限 {item.limit_days} 个工作日{due}。请说明原因并整改。"
    )
    supervised = create_item(
        supervisor,
        title=f"电子监察{label}：{item.service_name}（{item.external_id}）"[:200],
        source=Source.MANUAL,
        owner_unit_id=item.unit_id,
        # From the wall clock, not the evaluation moment: supervision wants a future deadline.
        deadline=add_working_days(timezone.now(), settings.GOVDESK_ESUPERVISION_RECTIFY_DAYS),
        instruction=instruction,
    )
    alert.supervised_item = supervised
    alert.save(update_fields=["supervised_item"])


def check_item(item_id: int, *, now: datetime | None = None) -> list[str]:
    """The beat task's check of one open item at ``now``: the alerts newly raised."""
    now = now or timezone.now()
    with transaction.atomic():
        item = ServiceItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            return []
        if item.complete_at is not None:
            # Completed: nothing new to measure, but an alert may still lack its
            # supervised item (no supervisor at the time).
            return raise_alerts(item, now=now)
        return _evaluate(item, now=now, as_of=now)


def check_open_items(now: datetime | None = None) -> int:
    """Every open item and every alert still without a supervised item, each in its own
    short transaction; the number of alerts raised."""
    ids = set(
        ServiceItem.objects.filter(complete_at__isnull=True).values_list("pk", flat=True)
    ) | set(Alert.objects.filter(supervised_item__isnull=True).values_list("item_id", flat=True))
    return sum(len(check_item(pk, now=now)) for pk in sorted(ids))
