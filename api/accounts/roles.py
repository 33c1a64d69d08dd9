"""Role selectors, read from the database on every call (never from token claims).

Docs: docs/organisation.md#roles. ``roles_of`` caches on the user object for the
length of one request only (the object is rebuilt per request by authentication).
"""

from __future__ import annotations

from django.db.models import QuerySet

from api.accounts.models import Role, RoleAssignment, Unit, User


def assignments_of(user: User) -> list[RoleAssignment]:
    cached = getattr(user, "_govdesk_roles", None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).select_related("unit"))
        user._govdesk_roles = cached  # type: ignore[attr-defined]
    return cached


def roles_of(user: User) -> set[str]:
    return {a.role for a in assignments_of(user)}


def has_role(user: User, role: str) -> bool:
    return role in roles_of(user)


def is_city_it_admin(user: User) -> bool:
    return has_role(user, Role.CITY_IT_ADMIN)


def admin_units(user: User) -> list[Unit]:
    """Units whose subtree this user administers (as unit admin)."""
    return [a.unit for a in assignments_of(user) if a.role == Role.UNIT_ADMIN]


def can_manage_unit(user: User, unit: Unit) -> bool:
    """A city IT admin manages every unit; a unit admin only their own subtree."""
    if is_city_it_admin(user):
        return True
    return any(unit.path.startswith(root.path) for root in admin_units(user))


def managed_units(user: User) -> QuerySet[Unit]:
    if is_city_it_admin(user):
        return Unit.objects.all()
    roots = admin_units(user)
    if not roots:
        return Unit.objects.none()
    from django.db.models import Q

    query = Q()
    for root in roots:
        query |= Q(path__startswith=root.path)
    return Unit.objects.filter(query)
