"""Who may read which audit events, and the filtered event list.

Docs: docs/audit.md#supervisor-api. Roles are read from the database
(api/accounts/roles.py), never from token claims:

* ``city_it_admin`` — every event;
* ``supervisor`` — the subtree of the unit the role is held in; at the top of the
  tree (the city) that is every event, including those with no unit (network
  denials, failed logins for unknown usernames);
* ``unit_admin`` — the subtree of the unit they administer;
* anyone else — nothing (403, recorded as ``audit.read`` denied).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from api.accounts.models import Role, Unit, User
from api.accounts.roles import assignments_of
from api.audit.models import AuditEvent

MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class AuditScope:
    everything: bool = False
    unit_paths: tuple[str, ...] = ()

    def covers_unit_path(self, path: str) -> bool:
        return self.everything or any(path.startswith(root) for root in self.unit_paths)


def audit_scope(user: User) -> AuditScope | None:
    """The events ``user`` may read, or None when they may read none."""
    paths: list[str] = []
    for assignment in assignments_of(user):
        if assignment.role == Role.CITY_IT_ADMIN:
            return AuditScope(everything=True)
        if assignment.role == Role.SUPERVISOR and assignment.unit.parent_id is None:
            return AuditScope(everything=True)
        if assignment.role in (Role.SUPERVISOR, Role.UNIT_ADMIN):
            paths.append(assignment.unit.path)
    if not paths:
        return None
    # Drop paths inside other paths: one prefix test per root.
    roots = tuple(
        sorted(p for p in set(paths) if not any(p != q and p.startswith(q) for q in paths))
    )
    return AuditScope(unit_paths=roots)


def _units_under(paths: tuple[str, ...]) -> QuerySet[Unit]:
    query = Q()
    for path in paths:
        query |= Q(path__startswith=path)
    return Unit.objects.filter(query)


def visible_events(scope: AuditScope) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if scope.everything:
        return events
    return events.filter(unit_id__in=_units_under(scope.unit_paths).values("id"))


@dataclass(frozen=True)
class EventFilter:
    actor: str | None = None
    action: str | None = None
    action_prefix: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    unit: int | None = None
    subtree: bool = False
    result: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def filter_events(events: QuerySet[AuditEvent], f: EventFilter) -> QuerySet[AuditEvent]:
    if f.actor:
        events = events.filter(actor_username=f.actor)
    if f.action:
        events = events.filter(action=f.action)
    if f.action_prefix:
        events = events.filter(action__startswith=f.action_prefix)
    if f.object_type:
        events = events.filter(object_type=f.object_type)
    if f.object_id:
        events = events.filter(object_id=f.object_id)
    if f.unit is not None:
        if f.subtree:
            root = Unit.objects.filter(pk=f.unit).values_list("path", flat=True).first()
            if root is None:
                return events.none()
            events = events.filter(unit_id__in=_units_under((root,)).values("id"))
        else:
            events = events.filter(unit_id=f.unit)
    if f.result:
        events = events.filter(result=f.result)
    if f.occurred_from is not None:
        events = events.filter(occurred_at__gte=f.occurred_from)
    if f.occurred_to is not None:
        events = events.filter(occurred_at__lt=f.occurred_to)
    return events


def event_by_seq(scope: AuditScope, seq: int) -> AuditEvent | None:
    if not 1 <= seq <= MAX_BIGINT:
        return None
    return visible_events(scope).filter(seq=seq).first()


def event_exists(seq: int) -> bool:
    return 1 <= seq <= MAX_BIGINT and AuditEvent.objects.filter(seq=seq).exists()
