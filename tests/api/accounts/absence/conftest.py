"""Absence fixtures: leo (leader of the office) holds 副主任 with deputy as backup;
a signal recorder that collects absence_changed after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.accounts.models import Absence, Post
from api.accounts.signals import absence_changed
from tests.personas import Role, make_user


@pytest.fixture
def deputy(org):
    return make_user("deputy", org.office, Role.LEADER, Role.STAFF, display_name="副手")


@pytest.fixture
def leo_post(personas, deputy, org):
    return Post.objects.create(
        unit=org.office, name="副主任", holder=personas["leo"], backup=deputy
    )


@pytest.fixture
def signals():
    """Every (absence id, change) sent, in order."""
    sent: list[tuple[int, str]] = []

    def receiver(sender, absence, change, **kwargs):
        sent.append((absence.pk, change))

    absence_changed.connect(receiver, dispatch_uid="test-absence-recorder")
    yield sent
    absence_changed.disconnect(dispatch_uid="test-absence-recorder")


def make_absence(user, *, start_in: timedelta, length: timedelta, **extra) -> Absence:
    now = timezone.now()
    return Absence.objects.create(
        user=user,
        starts_at=now + start_in,
        ends_at=now + start_in + length,
        created_by=user,
        **extra,
    )
