"""Three leaders countersign at the same moment: the step completes exactly once
(docs/workflow.md#concurrency). Real threads, real PostgreSQL row locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from api.workflow import actions
from api.workflow.models import Task, TaskState
from tests.conftest import requires_postgres


def _approve(task: Task, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        barrier.wait(timeout=10)
        actions.approve(task.pk, task.assignee)
    except BaseException as error:
        errors.append(error)
    finally:
        connection.close()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_three_concurrent_countersigns_advance_once(demo, outgoing):
    for attempt in range(3):
        document, instance = outgoing(title=f"并发会签{attempt}")
        actions.approve(demo.open_task("director", document).pk, demo.user("director"))
        tasks = [demo.open_task(n, document) for n in ("leader1", "leader2", "leader3")]
        barrier = threading.Barrier(len(tasks))
        errors: list[BaseException] = []

        threads = [threading.Thread(target=_approve, args=(t, barrier, errors)) for t in tasks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert set(
            Task.objects.filter(document=document, step_kind="countersign").values_list(
                "state", flat=True
            )
        ) == {TaskState.DONE}
        sign_off = Task.objects.filter(document=document, step_kind="sign_off")
        assert sign_off.count() == 1 and sign_off[0].state == TaskState.OPEN
        instance.refresh_from_db()
        assert instance.current_step_order == 3
        assert instance.round == 3  # review, countersign, sign-off: each opened once
