"""Who may see accountability cases, and the queries behind the lists.

Docs: docs/accountability.md#who-can-do-what. Supervisors (督查人员, the commission's
inspectors) see and manage the cases whose unit lies in their scope (the subtree of
their supervisor role's unit). The concerned unit's leaders and unit admins (a role
scoped to that very unit) see the cases about it, read-only. Anyone else gets a 404 for
a case, recorded as a denied read; lists show them nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from api.accountability.models import AccountabilityCase
from api.accounts import roles
from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.recorder import record_denied
from api.common.errors import NotFound

UNIT_ROLES = (Role.LEADER, Role.UNIT_ADMIN)


def is_supervisor(user: User) -> bool:
    return bool(roles.supervised_units(user))


def supervises(user: User, unit: Unit) -> bool:
    return roles.can_supervise_unit(user, unit)


def concerned_unit_ids(user: User) -> set[int]:
    """The units whose cases the user sees as their leader or unit admin."""
    return {a.unit_id for a in roles.assignments_of(user) if a.role in UNIT_ROLES}


def can_view(user: User, case: AccountabilityCase) -> bool:
    return case.unit_id in concerned_unit_ids(user) or supervises(user, case.unit)


def visible_cases(user: User) -> QuerySet[AccountabilityCase]:
    query = Q(unit_id__in=concerned_unit_ids(user))
    for root in roles.supervised_units(user):
        query |= Q(unit__path__startswith=root.path)
    return AccountabilityCase.objects.filter(query)


def with_related(queryset: QuerySet[AccountabilityCase]) -> QuerySet[AccountabilityCase]:
    return queryset.select_related("unit", "opened_by", "findings_by", "decided_by")


def case_or_404(user: User, pk: int, action: str) -> AccountabilityCase:
    """The case when ``user`` may see it; otherwise the refusal is recorded and 404."""
    case = with_related(AccountabilityCase.objects.filter(pk=pk)).first()
    if case is None:
        raise NotFound()
    if not can_view(user, case):
        record_denied(action, actor=user, obj=case, detail={"reason": "outside_scope"})
        raise NotFound()
    return case


def unit_heads(unit_id: int) -> list[User]:
    """The unit's active leaders (its head and deputies), each once, by id."""
    ids = (
        RoleAssignment.objects.filter(unit_id=unit_id, role=Role.LEADER, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=list(ids)).order_by("pk"))
