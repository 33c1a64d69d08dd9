"""Every organisation list endpoint costs the same number of queries for 2 rows as
for 30 (docs/organisation.md#endpoints): no N+1 on roles, holders, requesters."""

from __future__ import annotations

import pytest

from api.accounts.models import AppointmentRequest, Post, Role, RoleAssignment
from tests.api.accounts.org.helpers import count_queries
from tests.personas import make_unit, make_user

pytestmark = pytest.mark.django_db

# Authentication (session + user + unit), roles of the caller, the page, and at most
# a lookup of the unit and one prefetch: anything above this is a regression.
BUDGET = 7


def grow(org, personas, start: int, stop: int) -> None:
    """Add rows of every listed kind, each with related rows to tempt an N+1."""
    for index in range(start, stop):
        unit = make_unit(f"科{index}", "department", org.office, code=f"Q{index}")
        person = make_user(f"p{index}", org.office, Role.STAFF, Role.LEADER)
        other = make_user(f"q{index}", unit, Role.STAFF)
        Post.objects.create(unit=org.office, name=f"岗{index}", holder=person, backup=other)
        RoleAssignment.objects.create(user=personas["bob"], role=Role.LEADER, unit=unit)
        AppointmentRequest.objects.create(
            kind="appoint", role="clerk", user=other, unit=unit, requested_by=personas["alice"]
        )


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("charlie", "/api/v1/units/"),
        ("charlie", "/api/v1/units/{office}/children/"),
        ("alice", "/api/v1/units/{office}/members/"),
        ("alice", "/api/v1/units/{office}/members/?subtree=true"),
        ("bob", "/api/v1/units/{office}/members/?subtree=true"),
        ("bob", "/api/v1/units/{office}/posts/"),
        ("bob", "/api/v1/users/{bob}/roles/"),
        ("alice", "/api/v1/appointments/"),
        ("ivy", "/api/v1/appointments/?status=pending"),
    ],
)
def test_list_query_count_is_flat(as_, org, personas, persona, path):
    url = path.format(office=org.office.pk, bob=personas["bob"].pk)
    client = as_(persona)
    client.get(url)  # warm-up: session last-seen bookkeeping, caches

    grow(org, personas, 0, 2)
    small, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    rows_small = len(response.json()["results"])

    grow(org, personas, 2, 30)
    large, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    assert len(response.json()["results"]) > rows_small >= 2
    assert large == small, f"{url}: {small} queries for few rows, {large} for many"
    assert large <= BUDGET
