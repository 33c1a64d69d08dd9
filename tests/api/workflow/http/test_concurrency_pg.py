"""Concurrent taps on PostgreSQL: duplicates perform one action (docs/mobile-api.md#idempotency).

Threads with their own connections hit the real view stack at once: the three
leaders countersign together, leader1's tap arrives twice with the same
Idempotency-Key and twice more without one. Exactly one approval per leader is
recorded and the step completes exactly once (the mayor gets one task).
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from api.workflow.models import Task
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _run_at_once(calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_countersign_and_duplicate_taps(demo):
    document_id = demo.draft()
    demo.submit(document_id)
    assert demo.approve("director", demo.todo_for("director", document_id)["id"]).status_code == 200
    tasks = {n: demo.todo_for(n, document_id)["id"] for n in ("leader1", "leader2", "leader3")}
    clients = {n: demo.client(n) for n in tasks}  # log in before the race

    def tap(name, key=None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return lambda: clients[name].post(f"/api/v1/tasks/{tasks[name]}/approve/", **headers)

    key = f"same-{uuid.uuid4()}"
    results = _run_at_once(
        [
            tap("leader1", key),
            tap("leader1", key),
            tap("leader2"),
            tap("leader2"),
            tap("leader3"),
        ]
    )
    statuses = [r.status_code for r in results]
    keyed = results[:2]
    # One performed it; the twin waited and was answered as a replay, or (when the first
    # ran longer than the wait) 409 idempotency_in_progress — never the generic conflict.
    assert sorted(r.status_code for r in keyed) in ([200, 200], [200, 409])
    if [r.status_code for r in keyed] == [200, 200]:
        assert sum(r.has_header("Idempotent-Replayed") for r in keyed) == 1
    else:
        twin = next(r for r in keyed if r.status_code == 409)
        assert twin.json()["error"]["code"] == "idempotency_in_progress"
    unkeyed = sorted(r.status_code for r in results[2:4])
    assert unkeyed == [200, 409], statuses
    loser = next(r for r in results[2:4] if r.status_code == 409)
    assert loser.json()["error"]["code"] == "task_not_open"
    assert results[4].status_code == 200

    acted = Task.objects.filter(document_id=document_id, step_kind="countersign", action="approve")
    assert sorted(acted.values_list("assignee__username", flat=True)) == [
        "leader1",
        "leader2",
        "leader3",
    ]
    # The step completed exactly once: one sign-off task for the mayor.
    assert Task.objects.filter(document_id=document_id, step_kind="sign_off").count() == 1
    assert demo.todo_for("mayor", document_id)["step"]["kind"] == "sign_off"
