"""Who may read statistics. Docs: docs/supervision.md#who-can-do-what.

Supervisors read every unit in their scope (the subtree of their supervisor role's
unit), read-only; a leader reads the unit their leader role is scoped to. The role
model gives city leaders no wider view than their own unit (docs/organisation.md), so
neither does this. Anyone else is refused with 403 (recorded); a unit outside the
caller's view is a 404 (recorded).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from api.accounts import roles
from api.accounts.models import Role, Unit, User
from api.audit.recorder import record_denied
from api.common.errors import Forbidden, NotFound


@dataclass(frozen=True)
class StatsScope:
    supervised: tuple[Unit, ...]
    led_unit_ids: frozenset[int]

    def covers(self, unit: Unit) -> bool:
        return unit.pk in self.led_unit_ids or any(
            roles.within(unit, root) for root in self.supervised
        )

    def units(self) -> QuerySet[Unit]:
        query = Q(pk__in=list(self.led_unit_ids))
        for root in self.supervised:
            query |= Q(path__startswith=root.path)
        return Unit.objects.filter(query)


def scope_of(user: User) -> StatsScope | None:
    supervised = tuple(roles.supervised_units(user))
    led = frozenset(a.unit_id for a in roles.assignments_of(user) if a.role == Role.LEADER)
    if not supervised and not led:
        return None
    return StatsScope(supervised, led)


def require_scope(user: User, path: str) -> StatsScope:
    scope = scope_of(user)
    if scope is None:
        record_denied("stats.read", actor=user, detail={"path": path[:200], "reason": "no_role"})
        raise Forbidden()
    return scope


def unit_or_404(user: User, scope: StatsScope, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    if not scope.covers(unit):
        record_denied("stats.read", actor=user, obj=unit, detail={"reason": "outside_scope"})
        raise NotFound()
    return unit
