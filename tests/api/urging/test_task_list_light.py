"""``deadline_light`` on GET /api/v1/tasks/ and /tasks/{id}/ (docs/mobile-api.md),
computed without extra queries (docs/urging.md#lights)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(make_task, personas):
    now = timezone.now()
    leo = personas["leo"]
    return {
        # Weeks received, an hour left: nearly all the working time is used.
        "yellow": make_task(leo, now - timedelta(days=30), now + timedelta(hours=1)),
        "green": make_task(leo, now - timedelta(minutes=1), now + timedelta(days=30)),
        "red": make_task(leo, now - timedelta(days=3), now - timedelta(minutes=1)),
    }


def test_list_and_detail_show_the_light(personas, three):
    client = client_for(personas["leo"])
    items = client.get("/api/v1/tasks/").json()["results"]
    lights = {item["id"]: item["deadline_light"] for item in items}
    assert lights == {task.pk: light for light, task in three.items()}
    for light, task in three.items():
        assert client.get(f"/api/v1/tasks/{task.pk}/").json()["deadline_light"] == light


def test_a_done_task_has_no_light(personas, make_task):
    task = make_task(state="done")
    task.acted_at = timezone.now()
    task.save(update_fields=["acted_at"])
    items = client_for(personas["leo"]).get("/api/v1/tasks/", {"state": "done"}).json()
    assert [item["deadline_light"] for item in items["results"]] == ["none"]


def _count(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/tasks/", params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# The calendar re-checks its shared generation stamp every few seconds (a cache
# read, a query with the database cache): not in the middle of a count.
@override_settings(GOVDESK_CALENDAR_RECHECK_SECONDS=3600)
def test_the_light_costs_no_query(personas, make_task, three):
    now = timezone.now()
    for i in range(30):
        make_task(personas["leo"], now - timedelta(days=i % 9), now + timedelta(hours=i - 10))
    client = client_for(personas["leo"])
    _count(client, page_size=33)  # the first calendar use of the process loads it
    assert _count(client, page_size=3) == _count(client, page_size=33)
