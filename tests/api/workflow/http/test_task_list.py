"""GET /api/v1/tasks/: shape, order, keyset cursor, query count, gzip size, ETag.

Docs: docs/mobile-api.md#task-list.
"""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.workflow import selectors
from tests.personas import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


def _all_pages(client, **params) -> list[dict]:
    items, url, query = [], URL, dict(params)
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["previous"] is None
        items += body["results"]
        url, query = body["next"], None
    return items


def test_item_shape(personas, make_tasks):
    leo, bob = personas["leo"], personas["bob"]
    (task,) = make_tasks(leo, 1, sender=bob, urgencies=("urgent",), due_hours=(-3,))
    body = client_for(leo).get(URL).json()
    assert body["next"] is None
    (item,) = body["results"]
    assert item == {
        "id": task.pk,
        "state": "open",
        "document": {
            "id": task.document_id,
            "title": task.document.title,
            "doc_number": "",
            "urgency": "urgent",
            "doc_type": "request",
            "due_at": None,  # a row built without a submission has no overall limit
            "overdue": False,
        },
        "step": {"kind": "review", "name": "核稿"},
        "from": {"id": bob.pk, "display_name": "bob"},
        "on_behalf_of": None,
        "received_at": item["received_at"],
        "due_at": item["due_at"],
        "overdue": True,
        "deadline_light": "red",
        "unread": True,
        "actions": ["approve", "return", "transfer"],
    }
    assert item["received_at"].endswith("+08:00")


def test_most_urgent_first_and_cursor_walk_matches_selector_order(personas, make_tasks):
    leo = personas["leo"]
    make_tasks(leo, 23)
    client = client_for(leo)
    walked = _all_pages(client, page_size=4)
    ids = [item["id"] for item in walked]
    assert len(ids) == len(set(ids)) == 23
    # Urgency first, then due_at ascending (overdue first), no deadline last, then id.
    tasks = list(selectors.todo_tasks(leo))
    expected = sorted(tasks, key=lambda t: (-t.urgency_rank, t.due_at is None, t.due_at or 0, t.pk))
    assert ids == [t.pk for t in expected]
    ranks = {"very_urgent": 2, "urgent": 1, "normal": 0}
    urgencies = [ranks[item["document"]["urgency"]] for item in walked]
    assert urgencies == sorted(urgencies, reverse=True)
    for rank in (0, 1, 2):
        group = [i for i in walked if ranks[i["document"]["urgency"]] == rank]
        flags = [i["overdue"] for i in group]
        assert flags == sorted(flags, reverse=True)  # overdue first within an urgency
        dues = [i["due_at"] for i in group if i["due_at"]]
        assert dues == sorted(dues)
        assert [i["due_at"] for i in group][len(dues) :] == [None] * (len(group) - len(dues))


def test_done_list_and_state_param(personas, make_tasks):
    leo = personas["leo"]
    make_tasks(leo, 2)
    done = make_tasks(leo, 7, state="done")
    client = client_for(leo)
    walked = _all_pages(client, state="done", page_size=3)
    assert [i["id"] for i in walked] == [t.pk for t in done]  # newest acted first
    assert all(i["state"] == "done" and i["actions"] == [] for i in walked)
    # Each 已办 row says what was decided, with which opinion, and when.
    by_id = {t.pk: t for t in done}
    for item in walked:
        task = by_id[item["id"]]
        assert (item["action"], item["opinion"]) == (task.action, task.opinion)
        assert item["acted_at"] is not None
    todo = client.get(URL).json()["results"]
    assert todo and all("opinion" not in i for i in todo)
    assert client.get(URL, {"state": "later"}).status_code == 400


def test_only_my_tasks(personas, make_tasks):
    make_tasks(personas["leo"], 3)
    assert client_for(personas["charlie"]).get(URL).json()["results"] == []


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'[1, "yesterday", 3]').decode(),
        base64.urlsafe_b64encode(b'["x", null, 3]').decode(),
        base64.urlsafe_b64encode(b'[1, "2026-01-01T00:00:00", 3]').decode(),  # naive
        base64.urlsafe_b64encode(b"[1, null, -3]").decode(),
    ],
)
def test_forged_cursor_is_404(personas, make_tasks, cursor):
    make_tasks(personas["leo"], 2)
    response = client_for(personas["leo"]).get(URL, {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def _count(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_depend_on_page_size(personas, make_tasks, org):
    leo = personas["leo"]
    make_tasks(leo, 60, sender=personas["bob"])
    client = client_for(leo)
    # deadline_light reads the working-day calendar, which a process loads once (and
    # re-checks its generation stamp every few seconds): load it before counting.
    _count(client, page_size=5)
    small, large = _count(client, page_size=5), _count(client, page_size=50)
    assert small == large
    assert large <= 6  # session + user + roles/auth + the page
    make_tasks(leo, 5, sender=personas["alice"], state="done")
    assert _count(client, state="done", page_size=2) == _count(client, state="done", page_size=5)


def test_twenty_item_page_is_at_most_4kb_gzipped(personas, make_tasks):
    leo = personas["leo"]
    make_tasks(leo, 25, sender=personas["bob"])
    response = client_for(leo).get(URL, {"page_size": 20}, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.content))["results"]) == 20
    assert len(response.content) <= 4096, len(response.content)


def test_etag_304_and_change_after_an_action(personas, make_tasks):
    leo = personas["leo"]
    first_task, _ = make_tasks(leo, 2)
    client = client_for(leo)
    first = client.get(URL)
    assert client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    first_task.state = "done"
    first_task.save(update_fields=["state"])
    assert client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_summary_counts_in_few_queries(personas, make_tasks, django_assert_max_num_queries):
    leo = personas["leo"]
    tasks = make_tasks(leo, 5, due_hours=(-2, 5))  # 3 overdue, 2 not
    tasks[0].read_at = tasks[0].received_at
    tasks[0].save(update_fields=["read_at"])
    client = client_for(leo)
    with CaptureQueriesContext(connection) as base:
        client.get("/api/v1/me/")
    with django_assert_max_num_queries(len(base.captured_queries) + 1):
        body = client.get("/api/v1/me/summary/").json()
    assert body == {"todo": 5, "overdue": 3, "unread": 4}
    assert client_for(None).get("/api/v1/me/summary/").status_code == 401
