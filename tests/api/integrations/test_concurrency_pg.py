"""Two workers processing one record on PostgreSQL: the second waits for the first's
row lock, then finds the record done and handles nothing (docs/integrations.md#models)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from api.integrations import actions, registry
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_a_record_locked_by_one_worker_is_not_handled_by_another():
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def handle(source_id: str, payload: dict) -> None:
        calls.append(source_id)
        entered.set()
        assert release.wait(timeout=30)

    registry.register(registry.ConnectorSpec(name="slow", title="慢", handle=handle))
    try:
        stored, _ = actions.receive("slow", "S-1", {"id": "S-1"}, via="test")
        outcomes: dict[str, str] = {}

        def run(key: str) -> None:
            try:
                outcomes[key] = actions.process(stored.pk)
            finally:
                connection.close()

        first = threading.Thread(target=run, args=("first",))
        first.start()
        assert entered.wait(timeout=30)
        second = threading.Thread(target=run, args=("second",))
        second.start()
        # Release the first only once the second is blocked on the record's row.
        with connection.cursor() as cursor:
            for _ in range(2000):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.01)
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
        assert outcomes == {"first": "done", "second": "skipped"}
        assert calls == ["S-1"]
    finally:
        registry.unregister("slow")
