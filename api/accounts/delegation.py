"""A/B delegation: who acts for a user right now (docs/delegation.md#routing-rule).

``acting_for(user, at)`` is ``user`` unless ``user`` has an absence in effect at
``at``; then it is the backup of the user's post (``Post.holder == user`` with an
active ``backup``). Rules, kept deterministic:

* several posts with a backup: the post created first (lowest id) decides;
* no post with an active backup: nobody can stand in, the user is returned;
* the backup is absent too: the backup is still returned — chains are not followed
  (A → B, never A → B → C); the task waits with B and the trail shows it.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from api.accounts.models import Absence, Post, User


def _in_effect(at: datetime) -> Q:
    return Q(cancelled_at__isnull=True, starts_at__lte=at, ends_at__gt=at)


def absence_in_effect(user: User, at: datetime | None = None) -> Absence | None:
    at = at or timezone.now()
    return Absence.objects.filter(_in_effect(at), user=user).order_by("starts_at", "id").first()


def is_absent(user: User, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return Absence.objects.filter(_in_effect(at), user=user).exists()


def backup_of(user: User) -> User | None:
    """The backup of ``user``'s first post (lowest id) that has an active backup."""
    post = (
        Post.objects.filter(holder=user, backup__isnull=False, backup__is_active=True)
        .select_related("backup", "backup__unit")
        .order_by("id")
        .first()
    )
    return post.backup if post is not None else None


def acting_for(user: User, at: datetime | None = None) -> User:
    """Who must act for ``user`` at ``at`` (default now): the user, or — while the
    user is absent — the backup of their post. Never follows a chain."""
    if not is_absent(user, at):
        return user
    return backup_of(user) or user


def absent_users(at: datetime | None = None) -> QuerySet[User]:
    """Users with an absence in effect at ``at`` (default now)."""
    at = at or timezone.now()
    return User.objects.filter(
        pk__in=Absence.objects.filter(_in_effect(at)).values("user_id")
    ).order_by("id")
