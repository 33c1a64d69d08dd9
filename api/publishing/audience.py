"""Who a post is for (发布范围), as keys. Docs: docs/publishing.md#audience.

An audience is one of
* ``{"kind": "city"}`` — everyone;
* ``{"kind": "subtree", "unit_ids": [u]}`` — the people of ``u`` and every unit under it;
* ``{"kind": "units", "unit_ids": [a, b, …]}`` — the people of those units (a unit
  with its internal departments 内设部门, not its subordinate units);
* ``{"kind": "roles", "roles": ["leader", …]}`` — everyone holding one of the roles.

Stored as keys ("city", "t:<unit>", "u:<unit>", "r:<role>"). A reader's own keys
come from their unit's materialised path and their roles, without a query per unit,
so a visibility check is one indexed EXISTS.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from api.accounts import roles
from api.accounts.models import Role, Unit, UnitKind, User
from api.common.errors import ApiError
from api.common.i18n import t
from api.publishing.models import AudienceKind, PostAudience

MAX_UNITS = 500


def _bad(zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={"audience": [t(zh, en)]})


def clean(value: Any) -> dict[str, Any]:
    """The audience in its stored form; 400 when it is not one of the four shapes or
    names a unit that does not exist."""
    if not isinstance(value, dict) or value.get("kind") not in AudienceKind.values:
        raise _bad("发布范围无效。", "The audience must have a kind: city, subtree, units, roles.")
    kind = value["kind"]
    if kind == AudienceKind.CITY:
        return {"kind": kind}
    if kind == AudienceKind.ROLES:
        wanted = value.get("roles")
        if not isinstance(wanted, list) or not wanted or any(r not in Role.values for r in wanted):
            raise _bad("请选择有效的角色。", "Choose one or more valid roles.")
        return {"kind": kind, "roles": sorted(set(wanted))}
    ids = value.get("unit_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > MAX_UNITS
        or any(not isinstance(i, int) or isinstance(i, bool) or i <= 0 for i in ids)
    ):
        raise _bad("请选择单位。", f"Choose 1–{MAX_UNITS} units by id.")
    if kind == AudienceKind.SUBTREE and len(ids) != 1:
        raise _bad("“本单位及下级”只能选一个单位。", "A subtree audience names one unit.")
    unique = sorted(set(ids))
    found = set(Unit.objects.filter(pk__in=unique, is_active=True).values_list("pk", flat=True))
    missing = [i for i in unique if i not in found]
    if missing:
        raise ApiError(
            "unit_not_found",
            message=t("单位不存在。", "A unit does not exist."),
            fields={"audience": [str(i) for i in missing]},
        )
    return {"kind": kind, "unit_ids": unique}


def keys_of(audience: dict[str, Any]) -> list[str]:
    kind = audience.get("kind")
    if kind == AudienceKind.CITY:
        return ["city"]
    if kind == AudienceKind.ROLES:
        return [f"r:{role}" for role in audience.get("roles", [])]
    prefix = "t" if kind == AudienceKind.SUBTREE else "u"
    return [f"{prefix}:{unit_id}" for unit_id in audience.get("unit_ids", [])]


def _ancestor_ids(unit: Unit) -> list[int]:
    return [int(step) for step in unit.path.split(".") if step]


def reader_keys(user: User) -> list[str]:
    """The keys that put ``user`` in an audience: at most one query (the roles, cached
    on the user for the request) plus one for a department's body."""
    unit = user.unit
    path_ids = _ancestor_ids(unit) or [unit.pk]
    keys = ["city", *(f"t:{i}" for i in path_ids)]
    body = roles.organisation_of(unit)
    # The unit itself and the departments between it and its body (and the body).
    if body.pk in path_ids:
        keys.extend(f"u:{i}" for i in path_ids[path_ids.index(body.pk) :])
    else:
        keys.append(f"u:{unit.pk}")
    keys.extend(f"r:{role}" for role in sorted(roles.roles_of(user)))
    return keys


def visible_filter(user: User) -> Exists:
    """For ``Post.objects.filter(...)``: the post's audience includes ``user``."""
    return Exists(PostAudience.objects.filter(post=OuterRef("pk"), key__in=reader_keys(user)))


def members(audience: dict[str, Any]) -> QuerySet[User]:
    """Every active person in the audience (for must-read receipts)."""
    kind = audience.get("kind")
    people = User.objects.filter(is_active=True)
    if kind == AudienceKind.CITY:
        return people
    if kind == AudienceKind.ROLES:
        return people.filter(role_assignments__role__in=audience["roles"]).distinct()
    units = list(Unit.objects.filter(pk__in=audience["unit_ids"]))
    if kind == AudienceKind.SUBTREE:
        query = Q()
        for unit in units:
            query |= Q(unit__path__startswith=unit.path)
        return people.filter(query) if units else people.none()
    return people.filter(unit_id__in=body_unit_ids(units))


def body_unit_ids(units: list[Unit]) -> set[int]:
    """The units and their internal departments (recursively), not subordinate units:
    the people such an audience names are exactly those whose ``reader_keys`` match."""
    included = {unit.pk for unit in units}
    query = Q()
    for unit in units:
        query |= Q(path__startswith=unit.path)
    if not units:
        return included
    below = (
        Unit.objects.filter(query, kind=UnitKind.DEPARTMENT)
        .order_by("depth")
        .values_list("pk", "parent_id")
    )
    for pk, parent_id in below:
        if parent_id in included:
            included.add(pk)
    return included
