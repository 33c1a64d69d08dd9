"""One lock order on PostgreSQL: clerks drafting and submitting at once never deadlock.

Docs: docs/workflow.md#lock-order. Eight clerks' threads (each its own device session
and connection) draft and submit 100 documents while the office director approves
the submitted ones as they arrive. The old submit locked the unit row with the
document (``select_for_update().select_related("unit")``) and waited for the audit
chain head while a draft held the head and needed a key-share lock on that unit:
4 clerks × 40 pairs gave 23 + 9 × 500 DeadlockDetected. Now every action locks only
the rows it means (``of=("self",)``, ``no_key=True``) in one order; a deadlock or
serialization failure that could still happen would be retried inside the request
(logged by api.common.idempotency), so the test counts both: 0 retried, 0 × 5xx, and
PostgreSQL's own deadlock counter does not move.
"""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from django.db import connection

from api.workflow.models import Task, TaskState
from tests.api.workflow.http.conftest import login
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLERKS = 8
PAIRS = 100


def _deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


class Retries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def test_eight_clerks_drafting_and_submitting_never_deadlock(demo):
    template_id = demo.template_id()
    director_id, mayor_id = demo.id("director"), demo.id("mayor")
    clerks = [login("clerk") for _ in range(CLERKS)]  # eight devices, eight sessions
    director = login("director")
    retries = Retries()
    logging.getLogger("api.common.idempotency").addHandler(retries)
    deadlocks_before = _deadlocks()
    statuses: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    work = iter(range(PAIRS))
    clerks_done = threading.Event()

    def clerk(client) -> None:
        try:
            while True:
                with lock:
                    n = next(work, None)
                if n is None:
                    return
                draft = client.post(
                    "/api/v1/documents/",
                    {
                        "direction": "outgoing",
                        "title": f"并发拟稿-{n:03d}",
                        "doc_type": "notice",
                        "body": [{"level": 0, "text": "各单位："}],
                    },
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=f"draft-{uuid.uuid4()}",
                )
                submit = None
                if draft.status_code == 201:
                    submit = client.post(
                        f"/api/v1/documents/{draft.json()['id']}/submit/",
                        {
                            "template_id": template_id,
                            "participants": {"countersigners": [], "sign_off_by": mayor_id},
                        },
                        format="json",
                        HTTP_IDEMPOTENCY_KEY=f"submit-{uuid.uuid4()}",
                    )
                with lock:
                    for response in (draft, submit):
                        if response is not None:
                            statuses.append(response.status_code)
                            if response.status_code >= 300:
                                failures.append(response.content.decode()[:300])
        finally:
            connection.close()

    def approver() -> None:
        """The director approves submitted documents while the clerks keep going."""
        try:
            while True:
                finished = clerks_done.is_set()
                ids = list(
                    Task.objects.filter(assignee_id=director_id, state=TaskState.OPEN).values_list(
                        "id", flat=True
                    )
                )
                for task_id in ids:
                    response = director.post(
                        f"/api/v1/tasks/{task_id}/approve/",
                        HTTP_IDEMPOTENCY_KEY=f"approve-{task_id}",
                    )
                    with lock:
                        statuses.append(response.status_code)
                        if response.status_code >= 300:
                            failures.append(response.content.decode()[:300])
                if finished and not ids:
                    return
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(c,)) for c in clerks]
    approving = threading.Thread(target=approver)
    for thread in [*threads, approving]:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    clerks_done.set()
    approving.join(timeout=600)
    logging.getLogger("api.common.idempotency").removeHandler(retries)

    assert failures == []
    assert len([s for s in statuses if s >= 500]) == 0
    assert statuses.count(201) == 2 * PAIRS  # every draft and every submit
    assert statuses.count(200) == PAIRS  # every review approved
    assert [r for r in retries.records if "transient" in r] == []  # nothing to retry
    assert _deadlocks() == deadlocks_before
