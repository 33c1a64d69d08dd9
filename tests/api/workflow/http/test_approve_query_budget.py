"""Query budget of the one-tap approve (docs/performance.md#what-keeps-the-approve-fast).

The whole HTTP request is counted (authentication, the action's transaction with its
locks and audit record, the answer with its allowed actions). The budgets are the
counts measured after the approve path was optimised; a change that adds a query per
new assignee, re-reads a locked row or builds the answer from fresh queries fails here.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

# Budgets = the counts measured after the approve path was optimised (before → after),
# plus the Idempotency-Key's record, which is written in the action's own transaction
# (docs/api.md#idempotency): a savepoint with a short lock timeout around its
# insert, and the stored answer at the end — 9 queries, the same on every cache backend.
IDEMPOTENCY_RECORD_QUERIES = 9
BUDGETS = {
    # a review approve that opens a three-person countersign step: 26 → 14;
    # +2 for notifications: the assignees' notifications are written in the approve's
    # transaction (one read of the opened tasks, one bulk insert).
    "opens_countersign": 16,
    # a countersigner approves while the others are still open: 14 → 11
    "plain": 11,
}


@pytest.fixture(autouse=True)
def _no_session_touch(monkeypatch):
    """A session's last-seen time is written at most once a minute (one UPDATE on
    whichever request comes first after that): on a slow machine the minute can end
    inside one counted approve and not the other. The budgets are per request, so the
    touch is kept out of them."""
    monkeypatch.setattr("api.accounts.authentication.LAST_SEEN_RESOLUTION_SECONDS", 10**9)


def _budget(kind: str) -> int:
    return BUDGETS[kind] + IDEMPOTENCY_RECORD_QUERIES


def _approve(demo, username: str, task_id: int):
    return demo.client(username).post(
        f"/api/v1/tasks/{task_id}/approve/", HTTP_IDEMPOTENCY_KEY=f"q-{uuid.uuid4()}"
    )


def _count_approve(demo, username: str, task_id: int) -> tuple[int, dict]:
    demo.client(username)  # log in before counting
    with CaptureQueriesContext(connection) as queries:
        response = _approve(demo, username, task_id)
    assert response.status_code == 200, response.content
    return len(queries.captured_queries), response.json()


def test_approve_that_opens_a_three_person_countersign_step(demo, django_assert_max_num_queries):
    document_id = demo.draft()
    demo.submit(document_id)
    task_id = demo.todo_for("director", document_id)["id"]
    demo.client("director")
    with django_assert_max_num_queries(_budget("opens_countersign")):
        response = _approve(demo, "director", task_id)
    assert response.status_code == 200, response.content
    for name in ("leader1", "leader2", "leader3"):
        assert demo.todo_for(name, document_id)["step"]["kind"] == "countersign"


def test_opening_a_step_costs_the_same_for_two_or_three_people(demo):
    """Routing (absences) and deadlines are decided for the whole step at once."""
    counts = []
    for countersigners in (("leader1", "leader2"), ("leader1", "leader2", "leader3")):
        document_id = demo.draft()
        demo.submit(document_id, countersigners=countersigners)
        count, _ = _count_approve(demo, "director", demo.todo_for("director", document_id)["id"])
        counts.append(count)
    assert counts[0] == counts[1], counts


def test_plain_approve(demo, django_assert_max_num_queries):
    """A countersigner approves while the others are still open: the step stays."""
    document_id = demo.draft()
    demo.submit(document_id)
    assert (
        _approve(demo, "director", demo.todo_for("director", document_id)["id"]).status_code == 200
    )
    task_id = demo.todo_for("leader1", document_id)["id"]
    demo.client("leader1")
    with django_assert_max_num_queries(_budget("plain")):
        response = _approve(demo, "leader1", task_id)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "done"
    assert demo.todo_for("leader2", document_id)["state"] == "open"


def test_the_answer_built_in_memory_matches_a_fresh_read(demo):
    """The approve's answer (allowed actions from the rows the action just wrote)
    equals what reading the task again gives — withdraw included, whose rule looks
    at the new step's tasks."""
    document_id = demo.draft()
    demo.submit(document_id)
    task_id = demo.todo_for("director", document_id)["id"]
    answer = _approve(demo, "director", task_id).json()
    assert "withdraw" in answer["actions"]
    fresh = demo.client("director").get(f"/api/v1/tasks/{task_id}/").json()
    allowed = sorted(name for name, rule in fresh["allowed_actions"].items() if rule["allowed"])
    assert sorted(answer["actions"]) == allowed
    # Once a countersigner acted, the director may no longer withdraw.
    leader_task = demo.todo_for("leader1", document_id)["id"]
    assert _approve(demo, "leader1", leader_task).status_code == 200
    again = demo.client("director").get(f"/api/v1/tasks/{task_id}/").json()
    assert again["allowed_actions"]["withdraw"]["code"] == "next_step_started"
