"""enqueue_after_commit: the one way actions send a task (api/common/enqueue.py).

Docs: docs/architecture.md#background-work. The task is sent by name once the
surrounding transaction commits; a rollback sends nothing; a broker failure is logged
and never raised into the committed request; in eager mode the task runs at once.
"""

from __future__ import annotations

import logging
from contextlib import suppress

import pytest
from celery import current_app, shared_task
from django.db import transaction

from api.common.enqueue import enqueue_after_commit, send_now

pytestmark = pytest.mark.django_db

NAME = "tests.api.common.test_enqueue.remember"
RAN: list[tuple[int, str]] = []


@shared_task(name=NAME)
def remember(number: int, word: str = "") -> int:
    RAN.append((number, word))
    return number


@pytest.fixture
def sent(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(remember, "delay", lambda *a, **kw: calls.append((a, kw)))
    return calls


def test_sent_by_name_after_commit_not_before(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_after_commit(NAME, 7, word="seven")
        assert sent == []  # nothing before commit
    assert len(callbacks) == 1
    assert sent == [((7,), {"word": "seven"})]


def test_a_rollback_sends_nothing(sent, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        suppress(RuntimeError),
        transaction.atomic(),
    ):
        enqueue_after_commit(NAME, 1)
        raise RuntimeError("the action failed")
    assert callbacks == [] and sent == []


def test_a_broker_failure_is_logged_not_raised(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(remember, "delay", down)
    with (
        caplog.at_level(logging.ERROR, logger="api.common.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_after_commit(NAME, 2)  # the commit goes through, no exception
    assert any(f"could not enqueue {NAME}" in r.getMessage() for r in caplog.records)
    assert send_now(NAME, 3) is False


def test_an_unknown_task_name_is_logged_not_raised(caplog):
    with caplog.at_level(logging.ERROR, logger="api.common.enqueue"):
        assert send_now("api.nowhere.tasks.missing", 1) is False
    assert any("api.nowhere.tasks.missing" in r.getMessage() for r in caplog.records)


def test_eager_mode_runs_the_task(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    RAN.clear()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_after_commit(NAME, 5, word="five")
        assert RAN == []
    assert RAN == [(5, "five")]
