"""The workflow rules over HTTP that the other HTTP tests reached only through the actions:
withdraw rules, the paused clock of a return, transfer keeping the due time, the batch
limit's boundary, the end of an absence, ETag/304 on a task's detail and a trail, and
Idempotency-Key on every POST of the workflow API (docs/mobile-api.md).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from api.audit.models import AuditEvent
from api.common.idempotency import idempotent
from api.workflow.models import Task, TaskState

pytestmark = pytest.mark.django_db


def _code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def countersigning(demo):
    document_id = demo.draft()
    demo.submit(document_id)
    assert demo.approve("director", demo.todo_for("director", document_id)["id"]).status_code == 200
    return document_id


# --- withdraw ---------------------------------------------------------------------------------


def test_withdraw_only_by_the_sender_and_only_while_untouched(demo, countersigning):
    url = f"/api/v1/documents/{countersigning}/withdraw/"
    # the director's approval opened the countersign: the drafter is not its sender
    refused = demo.client("clerk").post(url)
    assert refused.status_code == 403 and _code(refused) == "not_sender"
    assert AuditEvent.objects.filter(actor_username="clerk", result="denied").exists()

    back = demo.client("director").post(url, HTTP_IDEMPOTENCY_KEY=f"w-{uuid.uuid4()}")
    assert back.status_code == 200, back.content
    assert back.json()["state"] == "running" and back.json()["current_step_order"] == 1
    review = demo.todo_for("director", countersigning)
    assert review["step"]["kind"] == "review"
    leaders = Task.objects.filter(document_id=countersigning, step_kind="countersign")
    assert set(leaders.values_list("state", flat=True)) == {TaskState.CANCELLED}

    # once a leader has acted, the director can no longer take it back
    assert demo.approve("director", review["id"]).status_code == 200
    leader1 = demo.todo_for("leader1", countersigning)
    assert demo.approve("leader1", leader1["id"]).status_code == 200
    late = demo.client("director").post(url)
    assert late.status_code == 409 and _code(late) == "next_step_started"


def test_reading_does_not_count_as_touching(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    assert demo.client("leader1").get(f"/api/v1/tasks/{task['id']}/").status_code == 200
    response = demo.client("director").post(f"/api/v1/documents/{countersigning}/withdraw/")
    assert response.status_code == 200, response.content


# --- return, transfer, batch ------------------------------------------------------------------


def test_return_over_http_pauses_the_returning_tasks_clock(demo, countersigning):
    task = demo.todo_for("leader2", countersigning)
    response = demo.client("leader2").post(
        f"/api/v1/tasks/{task['id']}/return/", {"opinion": "数据需核实"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "returned"
    returned = Task.objects.get(pk=task["id"])
    assert returned.paused_at is not None and returned.acted_at is not None
    again = demo.todo_for("director", countersigning)
    assert again["step"]["kind"] == "review" and again["from"]["id"] == demo.id("leader2")


def test_transfer_keeps_the_due_time_and_names_the_sender(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    moved = demo.client("leader1").post(
        f"/api/v1/tasks/{task['id']}/transfer/",
        {"to_user_id": demo.id("deputy1")},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    new = demo.todo_for("deputy1", countersigning)
    assert new["due_at"] == task["due_at"]
    assert new["from"]["id"] == demo.id("leader1")
    again = demo.client("leader1").post(
        f"/api/v1/tasks/{task['id']}/transfer/", {"to_user_id": demo.id("mayor")}, format="json"
    )
    assert again.status_code == 409 and _code(again) == "task_not_open"


def test_batch_of_exactly_100_reports_each_item_in_order(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    ids = [task["id"], *range(900_000_001, 900_000_100)]
    assert len(ids) == 100
    response = demo.client("leader1").post(
        "/api/v1/tasks/batch-approve/", {"task_ids": ids}, format="json"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["task_id"] for r in results] == ids
    assert results[0] == {"task_id": task["id"], "ok": True}
    assert {r["code"] for r in results[1:]} == {"not_found"}


# --- the end of an absence ----------------------------------------------------------------------


def test_end_of_absence_returns_unfinished_tasks_and_keeps_what_the_deputy_did(
    demo, django_capture_on_commit_callbacks
):
    documents = []
    for title in ("关于一号件的通知", "关于二号件的通知"):
        document_id = demo.draft(title=title)
        demo.submit(document_id)
        review = demo.todo_for("director", document_id)
        assert demo.approve("director", review["id"]).status_code == 200
        documents.append(document_id)
    first, second = documents

    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        declared = demo.client("leader1").post(
            "/api/v1/me/absences/",
            {
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(),
                "reason": "出差",
            },
            format="json",
        )
    assert declared.status_code == 201, declared.content
    held = demo.todo_for("deputy1", first)
    assert held["on_behalf_of"]["id"] == demo.id("leader1")
    assert demo.approve("deputy1", held["id"]).status_code == 200
    demo.todo_for("deputy1", second)

    with django_capture_on_commit_callbacks(execute=True):
        ended = demo.client("leader1").post(f"/api/v1/me/absences/{declared.json()['id']}/end/")
    assert ended.status_code == 200, ended.content

    back = demo.todo_for("leader1", second)
    assert back["on_behalf_of"] is None
    deputy = demo.client("deputy1").get("/api/v1/tasks/").json()["results"]
    assert all(t["document"]["id"] not in documents for t in deputy)
    trail = demo.client("clerk").get(f"/api/v1/documents/{first}/trail/").json()["entries"]
    acted = [e for e in trail if e["actor"] and e["actor"]["id"] == demo.id("deputy1")]
    assert [(e["state"], e["on_behalf_of"]["id"]) for e in acted] == [("done", demo.id("leader1"))]


# --- ETag / 304 -----------------------------------------------------------------------------


def test_task_detail_and_trail_answer_304_and_change_after_an_action(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    client = demo.client("leader1")
    url = f"/api/v1/tasks/{task['id']}/"
    client.get(url)  # the first open marks it read
    detail = client.get(url)
    assert detail.status_code == 200 and detail["ETag"].startswith('W/"')
    assert client.get(url, HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 304

    trail_url = f"/api/v1/documents/{countersigning}/trail/"
    trail = client.get(trail_url)
    assert client.get(trail_url, HTTP_IF_NONE_MATCH=trail["ETag"]).status_code == 304
    assert demo.approve("leader1", task["id"]).status_code == 200
    assert client.get(trail_url, HTTP_IF_NONE_MATCH=trail["ETag"]).status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 200


# --- Idempotency-Key on every POST -----------------------------------------------------------

# Every POST of the issue-3 API (documents, attachments, numbering, submit/flow, tasks,
# templates, absences, calendar overrides).
WORKFLOW_PREFIXES = (
    "api/v1/documents/",
    "api/v1/tasks/",
    "api/v1/workflow-templates/",
    "api/v1/me/absences/",
    "api/v1/calendar/",
)


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_post_of_the_workflow_api_is_idempotent():
    wrapper = idempotent(lambda self, request: None).__code__
    checked, missing = [], []
    for route, callback in _routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        post = getattr(view, "post", None)
        if post is None:
            continue
        if not (route.startswith(WORKFLOW_PREFIXES) or "/absences/" in route):
            continue
        checked.append(route)
        if post.__code__ is not wrapper:
            missing.append(route)
    assert len(checked) >= 15, checked
    assert "api/v1/documents/<int:pk>/move/" in checked
    assert missing == []
