"""Test personas and a small organisation (healthchecks-style: Alice may, Charlie
must not). Docs: docs/testing.md.

The tree:  市 (city) ─┬─ 市政府办公室 (office)
                      ├─ 市发改委 (bureau)
                      └─ 东区 (district) ── 东区街道 (township)
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.test import APIClient

from api.accounts.models import Role, RoleAssignment, Unit, User
from api.accounts.tokens import issue_tokens, open_session

PASSWORD = "Str0ng!Passw0rd"


def make_unit(name: str, kind: str, parent: Unit | None = None, code: str | None = None) -> Unit:
    unit = Unit.objects.create(name=name, kind=kind, parent=parent, code=code or name)
    unit.path = unit.compute_path()
    unit.depth = 0 if parent is None else parent.depth + 1
    unit.save(update_fields=["path", "depth"])
    return unit


def make_user(
    username: str,
    unit: Unit,
    *roles: str,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> User:
    user = User.objects.create_user(
        username, password, display_name=display_name or username, unit=unit
    )
    for role in roles:
        RoleAssignment.objects.create(user=user, role=role, unit=unit)
    return user


@dataclass
class Org:
    city: Unit
    office: Unit
    bureau: Unit
    district: Unit
    township: Unit


def make_org() -> Org:
    city = make_unit("测试市", "city", code="C")
    return Org(
        city=city,
        office=make_unit("测试市政府办公室", "office", city, code="C-OFF"),
        bureau=make_unit("测试市发展和改革委员会", "bureau", city, code="C-DRC"),
        district=(district := make_unit("东区", "district", city, code="C-E")),
        township=make_unit("东区街道", "township", district, code="C-E-T"),
    )


def client_for(user: User | None) -> APIClient:
    """An APIClient carrying a fresh access token for ``user`` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        pair = issue_tokens(user, open_session(user, device_name="test"))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return client


__all__ = ["PASSWORD", "Org", "Role", "client_for", "make_org", "make_unit", "make_user"]
