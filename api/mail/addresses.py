"""Addresses of a mail: parsing what the sender wrote and expanding it into people.

Docs: docs/mail.md#addresses. An address is a string: ``user:<id>``, ``unit:<id>``
(the unit's clerks 收发文员), ``unit:<id>:all`` (everyone of the unit and its
sub-units; only for those allowed, see ``may_mail_whole_unit``) or ``group:<id>`` (one
of the sender's saved groups). Expanding a unit or group leaves the sender out; a
person addressed twice receives once, with the strongest role (to, then cc, then bcc).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from api.accounts.models import Role as OrgRole
from api.accounts.models import Unit, User
from api.accounts.roles import has_full_view, has_role, is_member_of
from api.common.errors import ApiError, Forbidden
from api.common.i18n import t
from api.mail.models import Group

ADDRESS = re.compile(r"^(user|unit|group):([1-9][0-9]{0,17})(?::(all|clerks))?$")
ROLES = ("to", "cc", "bcc")
STRENGTH = {"to": 0, "cc": 1, "bcc": 2}
MAX_ADDRESSES = 2000


def may_mail_whole_unit(sender: User, unit: Unit) -> bool:
    """Everyone of a unit: its own people, those with a full view of it (its admins,
    city IT, supervisors) and leaders. Anyone may write to a unit's clerks."""
    return (
        is_member_of(sender, unit)
        or has_full_view(sender, unit)
        or has_role(sender, OrgRole.LEADER)
    )


def parse(sender: User, by_role: dict[str, list[str]]) -> list[dict]:
    """Validate every address before anything is written; returns the address list
    as stored on ``Mail.addresses`` (with labels). 400 ``mail_recipient_unknown``
    names the addresses that do not exist; 403 when a whole unit is not allowed."""
    parsed: list[tuple[str, str, int, str]] = []
    bad: dict[str, list[str]] = {}
    for role in ROLES:
        for raw in by_role.get(role) or []:
            match = ADDRESS.match(str(raw).strip())
            if not match or (match.group(1) != "unit" and match.group(3)):
                bad.setdefault(role, []).append(str(raw)[:60])
                continue
            kind, ident, scope = match.group(1), int(match.group(2)), match.group(3) or ""
            if kind == "unit" and not scope:
                scope = "clerks"
            parsed.append((role, kind, ident, scope))
    if len(parsed) > MAX_ADDRESSES:
        raise ApiError(
            "validation_error",
            fields={
                "to": [t(f"地址最多 {MAX_ADDRESSES} 个。", f"At most {MAX_ADDRESSES} addresses.")]
            },
        )
    # Plain tuples, not model instances: a send to 1,000 people reads 1,000 rows here.
    users = {
        pk: f"{name}（{unit_name}）"
        for pk, name, unit_name in User.objects.filter(
            pk__in={i for _r, k, i, _s in parsed if k == "user"}, is_active=True
        ).values_list("pk", "display_name", "unit__name")
    }
    units = {
        u.pk: u
        for u in Unit.objects.filter(
            pk__in={i for _r, k, i, _s in parsed if k == "unit"}, is_active=True
        )
    }
    groups = {
        g.pk: g
        for g in Group.objects.filter(
            pk__in={i for _r, k, i, _s in parsed if k == "group"}, owner=sender
        )
    }
    found: dict[str, dict[int, Any]] = {"user": users, "unit": units, "group": groups}
    result: list[dict] = []
    for role, kind, ident, scope in parsed:
        target = found[kind].get(ident)
        if target is None:
            bad.setdefault(role, []).append(f"{kind}:{ident}" + (f":{scope}" if scope else ""))
            continue
        if kind == "unit" and scope == "all" and not may_mail_whole_unit(sender, target):
            raise Forbidden(
                "mail_unit_all_not_allowed",
                t(
                    "您不能给该单位全体人员发邮件，可发给其收发文员。",
                    "You may not mail everyone of that unit; mail its clerks instead.",
                ),
            )
        result.append(
            {
                "role": role,
                "kind": kind,
                "id": ident,
                "scope": scope,
                "label": _label(kind, target, scope),
            }
        )
    if bad:
        raise ApiError(
            "mail_recipient_unknown",
            t("收件人不存在：", "No such recipient: ")
            + ", ".join(a for v in bad.values() for a in v),
            fields=bad,
        )
    return result


def _label(kind: str, target: object, scope: str) -> str:
    if kind == "user":
        return str(target)  # already "name（unit）"
    if kind == "unit":
        suffix = "全体" if scope == "all" else "收发文员"
        return f"{target.name}（{suffix}）"  # type: ignore[attr-defined]
    return target.name  # type: ignore[attr-defined]


def _unit_people(unit_id: int, scope: str) -> Q | None:
    unit = Unit.objects.filter(pk=unit_id).only("path").first()
    if unit is None:
        return None
    if scope == "all":
        return Q(unit__path__startswith=unit.path)
    return Q(role_assignments__role=OrgRole.CLERK, role_assignments__unit_id=unit_id)


def expand(sender: User, addresses: Iterable[dict]) -> dict[int, str]:
    """user id → role for every active person the addresses reach: one query for the
    people addressed by name, one per unit or group, whatever the number of people."""
    reached: dict[int, str] = {}

    def add(user_id: int, role: str) -> None:
        if user_id not in reached or STRENGTH[role] < STRENGTH[reached[user_id]]:
            reached[user_id] = role

    direct: dict[int, str] = {}
    for address in addresses:
        kind, role = address["kind"], address["role"]
        if kind == "user":
            direct[address["id"]] = min(
                role, direct.get(address["id"], "bcc"), key=STRENGTH.__getitem__
            )
            continue
        members = [address] if kind == "unit" else _group_members(sender, address["id"])
        for member in members:
            if member["kind"] == "user":
                if member["id"] != sender.pk:
                    direct[member["id"]] = min(
                        role, direct.get(member["id"], "bcc"), key=STRENGTH.__getitem__
                    )
                continue
            condition = _unit_people(member["id"], member.get("scope") or "clerks")
            if condition is None:
                continue
            for user_id in (
                User.objects.filter(condition, is_active=True)
                .exclude(pk=sender.pk)
                .values_list("pk", flat=True)
                .distinct()
            ):
                add(user_id, role)
    for user_id in User.objects.filter(pk__in=direct, is_active=True).values_list("pk", flat=True):
        add(user_id, direct[user_id])
    return reached


def _group_members(sender: User, group_id: int) -> list[dict]:
    group = Group.objects.filter(pk=group_id, owner=sender).first()
    return list(group.members) if group else []


def parse_group_members(sender: User, members: list[str]) -> list[dict]:
    """A saved group's members: user and unit addresses only (no nested groups)."""
    parsed = parse(sender, {"to": [m for m in members]})
    if any(a["kind"] == "group" for a in parsed):
        raise ApiError(
            "validation_error",
            fields={"members": [t("分组不能包含分组。", "A group cannot contain a group.")]},
        )
    return [{k: a[k] for k in ("kind", "id", "scope", "label")} for a in parsed]
