"""Idempotency-Key under concurrency on PostgreSQL (docs/api.md#idempotency).

A duplicate arriving while the first request is still inside its transaction waits
on the first one's uncommitted row: it replays the answer once the first commits, or
gets 409 ``idempotency_in_progress`` with Retry-After when the first takes longer than
GOVDESK_IDEMPOTENCY_WAIT_SECONDS — never the generic ``conflict``.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import override_settings

from tests.api.common.boom_urls import CounterView
from tests.conftest import requires_postgres
from tests.personas import client_for

pytestmark = [
    requires_postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.api.common.boom_urls"),
]


@pytest.fixture(autouse=True)
def holding():
    CounterView.calls.clear()
    CounterView.hold = threading.Event()
    CounterView.entered = threading.Event()
    yield
    CounterView.hold.set()
    CounterView.hold = CounterView.entered = None


def _first_request_in_background(client, key):
    result: dict = {}

    def run():
        try:
            result["response"] = client.post(
                "/counter/", {"hold": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key
            )
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert CounterView.entered is not None
    assert CounterView.entered.wait(timeout=30)
    return thread, result


@override_settings(GOVDESK_IDEMPOTENCY_WAIT_SECONDS=1)
def test_duplicate_while_first_runs_is_in_progress_with_retry_after(personas):
    first_client, second_client = client_for(personas["bob"]), client_for(personas["bob"])
    thread, result = _first_request_in_background(first_client, "hold-0001-abcdef")
    second = second_client.post(
        "/counter/", {"hold": 1}, format="json", HTTP_IDEMPOTENCY_KEY="hold-0001-abcdef"
    )
    assert CounterView.hold is not None
    CounterView.hold.set()
    thread.join(timeout=30)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_in_progress"
    assert int(second["Retry-After"]) >= 1
    assert result["response"].status_code == 201
    assert len(CounterView.calls) == 1
    third = second_client.post(
        "/counter/", {"hold": 1}, format="json", HTTP_IDEMPOTENCY_KEY="hold-0001-abcdef"
    )
    assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"


@override_settings(GOVDESK_IDEMPOTENCY_WAIT_SECONDS=20)
def test_duplicate_waits_for_the_first_and_replays_it(personas):
    first_client, second_client = client_for(personas["bob"]), client_for(personas["bob"])
    thread, result = _first_request_in_background(first_client, "hold-0002-abcdef")
    answers: dict = {}

    def duplicate():
        try:
            answers["second"] = second_client.post(
                "/counter/", {"hold": 1}, format="json", HTTP_IDEMPOTENCY_KEY="hold-0002-abcdef"
            )
        finally:
            connection.close()

    waiter = threading.Thread(target=duplicate)
    waiter.start()
    # Release the first only once the duplicate is blocked on its row.
    with connection.cursor() as cursor:
        for _ in range(2000):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.01)
    assert CounterView.hold is not None
    CounterView.hold.set()
    thread.join(timeout=30)
    waiter.join(timeout=30)
    assert result["response"].status_code == 201
    assert answers["second"].status_code == 201
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert answers["second"].json() == result["response"].json()
    assert len(CounterView.calls) == 1
