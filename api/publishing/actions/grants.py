"""Unit publishers (信息审核员). Docs: docs/publishing.md#who-can-do-what.

A unit admin (or the city IT admin) of a unit names its publishers; recorded.
"""

from __future__ import annotations

from django.db import transaction

from api.accounts import roles
from api.accounts.models import Unit, User
from api.audit.recorder import record, record_denied
from api.common.errors import Forbidden
from api.publishing.models import Publisher


def grant_publisher(unit: Unit, user: User, actor: User | None) -> Publisher:
    """Make ``user`` a publisher of ``unit``; ``actor`` None is the demo seeding."""
    if actor is not None and not roles.can_manage_unit(actor, unit):
        record_denied("publishing.grant", actor=actor, obj=unit, detail={"user": user.pk})
        raise Forbidden()
    with transaction.atomic():
        grant, created = Publisher.objects.get_or_create(
            user=user, unit=unit, defaults={"granted_by": actor}
        )
        if created:
            record(
                "publishing.publisher_granted",
                actor=actor,
                actor_username="" if actor else "seed_demo",
                obj=unit,
                detail={"user": user.pk, "username": user.username},
            )
    return grant
