"""Who may see and do what with supervised items, and the queries behind the lists.

Docs: docs/supervision.md#who-can-do-what. Supervisors (督查人员) see and manage the
items whose owner unit lies in their scope (the subtree of their supervisor role's
unit); the owner unit's people see its items, and its leaders and clerks report
progress. Anyone else gets a 404 for an item, recorded as a denied read.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from api.accounts import roles
from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.supervision.models import Milestone, SupervisedItem

OWNER_ROLES = (Role.LEADER, Role.CLERK)


def is_supervisor(user: User) -> bool:
    return bool(roles.supervised_units(user))


def member_unit_ids(user: User) -> set[int]:
    """The user's unit and the body it belongs to (a department's office)."""
    unit = user.unit
    return {unit.pk, roles.organisation_of(unit).pk}


def supervises(user: User, unit: Unit) -> bool:
    return roles.can_supervise_unit(user, unit)


def is_owner_staff(user: User, item: SupervisedItem) -> bool:
    """A leader or clerk of the owner unit (role scoped to that unit)."""
    return any(
        a.role in OWNER_ROLES and a.unit_id == item.owner_unit_id
        for a in roles.assignments_of(user)
    )


def can_view(user: User, item: SupervisedItem) -> bool:
    return supervises(user, item.owner_unit) or item.owner_unit_id in member_unit_ids(user)


def visible_items(user: User) -> QuerySet[SupervisedItem]:
    query = Q(owner_unit_id__in=member_unit_ids(user))
    for root in roles.supervised_units(user):
        query |= Q(owner_unit__path__startswith=root.path)
    return SupervisedItem.objects.filter(query)


def with_related(queryset: QuerySet[SupervisedItem]) -> QuerySet[SupervisedItem]:
    return queryset.select_related("owner_unit", "created_by", "closed_by").prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("due", "id"))
    )


def item_or_404(user: User, pk: int, action: str) -> SupervisedItem:
    """The item when ``user`` may see it; otherwise the refusal is recorded and 404."""
    item = with_related(SupervisedItem.objects.filter(pk=pk)).first()
    if item is None:
        raise NotFound()
    if not can_view(user, item):
        record_denied(action, actor=user, obj=item, detail={"reason": "outside_scope"})
        raise NotFound()
    return item


def owner_recipients(unit_id: int, role_names: tuple[str, ...] = OWNER_ROLES) -> list[User]:
    """Active people holding one of ``role_names`` at the owner unit, each once."""
    ids = (
        RoleAssignment.objects.filter(unit_id=unit_id, role__in=role_names, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=list(ids)).order_by("pk"))
