"""Bootstrapping a production deployment: the root unit and the first city IT admin.

Docs: docs/operations.md#first-start. Everything else (units, people, roles) is then
done through the API by that admin; ``seed_demo`` refuses production.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from api.accounts.actions.org import assign_path
from api.accounts.models import Role, RoleAssignment, Unit, UnitKind, User
from api.audit.recorder import record


class AlreadyBootstrapped(Exception):
    """A root unit or a city IT admin exists: bootstrapping twice is refused."""


@transaction.atomic
def bootstrap_city(
    *, unit_name: str, unit_code: str, username: str, display_name: str, password: str
) -> tuple[Unit, User]:
    """Create the root unit and its first city IT admin, audited. Refuses to run a
    second time, so a leaked command line cannot mint another admin."""
    if (
        Unit.objects.select_for_update().filter(parent__isnull=True).exists()
        or RoleAssignment.objects.filter(role=Role.CITY_IT_ADMIN).exists()
    ):
        raise AlreadyBootstrapped("a root unit or a city IT admin already exists")
    unit = Unit.objects.create(name=unit_name, code=unit_code, kind=UnitKind.CITY)
    assign_path(unit)
    unit.save(update_fields=["path", "depth"])
    user = User(username=username, display_name=display_name, unit=unit)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    RoleAssignment.objects.create(user=user, role=Role.CITY_IT_ADMIN, unit=unit)
    record(
        "system.bootstrapped",
        obj=unit,
        actor_username="manage.py bootstrap_city",
        detail={"admin": username, "unit_code": unit_code},
    )
    return unit, user
