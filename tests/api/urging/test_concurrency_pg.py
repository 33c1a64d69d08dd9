"""Two scans at the same moment (two beats, a retried task) urge once, on PostgreSQL
with real row locks (docs/urging.md#automatic-urges)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from api.notify.models import Notification
from api.urging import actions
from api.urging.models import UrgeRecord
from tests.api.urging.conftest import at
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_scans_urge_each_task_once(make_task):
    tasks = [
        make_task(received=at("2026-11-20 10:00"), due=at("2026-11-23 10:00")) for _ in range(8)
    ]
    barrier = threading.Barrier(4)
    results, failures = [], []

    def scan():
        try:
            barrier.wait()
            results.append(actions.scan_deadlines(at("2026-11-23 11:00")).red)
        except Exception as exc:  # reported below; a thread must not die silently
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(results) == len(tasks)
    assert UrgeRecord.objects.filter(kind="auto_red").count() == len(tasks)
    assert Notification.objects.filter(kind="urge").count() == len(tasks)
