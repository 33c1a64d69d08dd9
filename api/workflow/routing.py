"""Who gets a task and by when: delegation routing, participant scope, deadlines.

Docs: docs/workflow.md#delegation and #deadlines. The working-day calendar lives in
api/workdays and absences in api/accounts.delegation; this module is the engine's
only door to both, so the rules are in one place.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from api.accounts.models import Unit, User
from api.accounts.roles import organisation_of


def route(user: User, at: datetime | None = None) -> tuple[User, User | None]:
    """(assignee, on_behalf_of) for a task meant for ``user``: the post's backup when
    ``user`` is absent at ``at`` (B acts for A), else ``user`` themself."""
    from api.accounts.delegation import acting_for

    actor = acting_for(user, at)
    if actor is None or actor.pk == user.pk:
        return user, None
    return actor, user


ABSENT_AT = "_govdesk_absent_at"  # (at, absent) set by note_absence


def route_many(users: list[User], at: datetime) -> dict[int, tuple[User, User | None]]:
    """``route`` for several people in one query: who of them is absent at ``at``
    (api.accounts.delegation.absent_users); only the absent ones go through
    ``route`` itself (the same rule, and the backup lookup)."""
    from api.accounts.delegation import absent_users

    absent = {u.pk for u in users if getattr(u, ABSENT_AT, None) == (at, True)}
    unknown = [u.pk for u in users if getattr(u, ABSENT_AT, (None, None))[0] != at]
    if unknown:
        absent |= set(absent_users(at).filter(pk__in=unknown).values_list("pk", flat=True))
    return {user.pk: route(user, at) if user.pk in absent else (user, None) for user in users}


def with_absence(users: QuerySet[User], at: datetime) -> QuerySet[User]:
    """``users`` annotated with whether each is absent at ``at`` (the rule of
    api.accounts.delegation.absent_users, as a subquery); ``note_absence`` then
    marks the loaded users for ``route_many``."""
    from api.accounts.delegation import absent_users

    return users.annotate(govdesk_absent=Exists(absent_users(at).filter(pk=OuterRef("pk"))))


def note_absence(users: list[User], at: datetime) -> list[User]:
    for user in users:
        if hasattr(user, "govdesk_absent"):
            setattr(user, ABSENT_AT, (at, bool(user.govdesk_absent)))
    return users


def deadline(step: dict, urgency: str, people: int, received_at: datetime) -> datetime:
    """due_at of a task received at ``received_at``: the step's own time limit when
    the template sets one, else the policy of api.workdays.deadline_days."""
    from api.workdays import add_working_days, deadline_days

    days = step.get("time_limit_days")
    if days is None:
        countersigners = people if step["kind"] == "countersign" else 0
        days = deadline_days(step["kind"], urgency, countersigners)
    return add_working_days(received_at, float(days))


def working_seconds(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None or end <= start:
        return 0
    from api.workdays import working_seconds_between

    return int(working_seconds_between(start, end))


def scope_root(unit: Unit) -> Unit:
    """The subtree people of a document's unit may route it to: the body's parent and
    everything below it (own body, its departments, sibling bodies and the parent's
    leaders: an office's document goes to the city's vice-mayors), or the body itself
    when it is the root of the tree."""
    body = organisation_of(unit)
    if body.parent_id is None:
        return body
    parent = Unit.objects.filter(pk=body.parent_id).first()
    return parent or body


def in_scope(user: User, unit: Unit) -> bool:
    root = scope_root(unit)
    return user.is_active and bool(root.path) and user.unit.path.startswith(root.path)
