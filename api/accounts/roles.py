"""Role selectors, read from the database on every call (never from token claims).

Docs: docs/organisation.md#roles. ``roles_of`` caches on the user object for the
length of one request only (the object is rebuilt per request by authentication).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from api.accounts.models import Role, RoleAssignment, Unit, UnitKind, User


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
    return any(within(unit, root) for root in admin_units(user))


def managed_units(user: User) -> QuerySet[Unit]:
    if is_city_it_admin(user):
        return Unit.objects.all()
    roots = admin_units(user)
    if not roots:
        return Unit.objects.none()
    query = Q()
    for root in roots:
        query |= Q(path__startswith=root.path)
    return Unit.objects.filter(query)


# --- Organisation rules (docs/organisation.md#who-can-do-what) ---------------------------

# Roles a unit admin may grant or revoke directly inside their subtree. Every sensitive
# role (FILED_ROLES: unit admin, clerk, leader, seal custodian, supervisor) changes only
# through an appointment request (备案); the city IT admin role only by a city IT admin.
GRANTABLE_ROLES = frozenset({Role.STAFF})


def within(unit: Unit, root: Unit) -> bool:
    """``unit`` is ``root`` or lies in its subtree (materialised-path prefix)."""
    return bool(root.path) and unit.path.startswith(root.path)


def supervised_units(user: User) -> list[Unit]:
    """Units whose subtree this user supervises (督查: read-only)."""
    return [a.unit for a in assignments_of(user) if a.role == Role.SUPERVISOR]


def can_supervise_unit(user: User, unit: Unit) -> bool:
    return any(within(unit, root) for root in supervised_units(user))


def organisation_of(unit: Unit) -> Unit:
    """The body (机关) a unit belongs to: the unit itself, or for a department (内设部门)
    its nearest ancestor that is not a department. One query, for departments only."""
    if unit.kind != UnitKind.DEPARTMENT:
        return unit
    cached = getattr(unit, "_govdesk_organisation", None)
    if cached is None:
        ancestor_ids = [int(step) for step in unit.path.split(".") if step][:-1]
        cached = (
            Unit.objects.filter(pk__in=ancestor_ids)
            .exclude(kind=UnitKind.DEPARTMENT)
            .order_by("-depth")
            .first()
        ) or unit
        unit._govdesk_organisation = cached  # type: ignore[attr-defined]
    return cached


def is_member_of(user: User, unit: Unit) -> bool:
    """The user works in the same body as ``unit``: a person of the office is a member
    of the office and of its departments, and vice versa; a township's people are not
    members of their district, nor the district's of the township."""
    own = getattr(user, "unit", None)
    if own is None:
        return False
    if own.pk == unit.pk:
        return True
    return organisation_of(own).pk == organisation_of(unit).pk


def has_full_view(user: User, unit: Unit) -> bool:
    """Admins of the unit's subtree, city IT admins and supervisors whose scope covers
    it see all of its people, sub-units included."""
    return can_manage_unit(user, unit) or can_supervise_unit(user, unit)


def can_view_people(user: User, unit: Unit) -> bool:
    """Who may see a unit's members and posts: members of its body (see
    ``is_member_of``) and those with a full view of it. Others get a 404."""
    return has_full_view(user, unit) or is_member_of(user, unit)


def can_view_user(viewer: User, target: User) -> bool:
    return viewer.pk == target.pk or can_view_people(viewer, target.unit)


def can_manage_user(actor: User, target: User) -> bool:
    """An admin manages the people of their subtree, except a city IT admin (only
    another city IT admin may) and an admin whose own admin scope is wider than the
    actor's (a unit admin cannot disable the admin of a parent unit)."""
    if not can_manage_unit(actor, target.unit):
        return False
    target_assignments = assignments_of(target)
    if any(a.role == Role.CITY_IT_ADMIN for a in target_assignments):
        return is_city_it_admin(actor)
    return all(
        can_manage_unit(actor, a.unit) for a in target_assignments if a.role == Role.UNIT_ADMIN
    )


def supervises_own_unit(person: User, role: str, unit: Unit) -> bool:
    """A supervisor role whose scope is the person's own unit or the body (机关) their
    unit belongs to: nobody supervises themselves (docs/organisation.md#roles). A
    commission's inspector (市纪委) scoped to the whole city is not caught: the city is
    not their unit."""
    if role != Role.SUPERVISOR or person.unit_id is None:
        return False
    own = person.unit
    return unit.pk in {own.pk, organisation_of(own).pk}
