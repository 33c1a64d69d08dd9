"""The worker heartbeat and what health makes of it. Docs: docs/operations.md#health.

``api.common.tasks.heartbeat`` (sent by beat every minute, and once as beat starts)
writes the time into the shared cache; ``GET /api/v1/health/`` reports it as
``worker`` without letting a missing worker degrade the answer.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from api.common import tasks
from api.common.health import check_worker


@pytest.fixture(autouse=True)
def no_heartbeat(db):
    # The cache may be Redis shared with other tests (CI): start and end empty.
    cache.delete(tasks.HEARTBEAT_CACHE_KEY)
    yield
    cache.delete(tasks.HEARTBEAT_CACHE_KEY)


def _health(client) -> dict:
    response = client.get("/api/v1/health/")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_without_a_worker_health_stays_ok_and_says_so(client):
    body = _health(client)
    assert body["status"] == "ok"
    assert body["worker"] == {"ok": False, "last_seen": None}


@pytest.mark.django_db
def test_the_heartbeat_task_marks_the_worker_alive(client):
    before = timezone.now()
    result = tasks.heartbeat.apply().get()  # runs the task as a worker would
    assert isinstance(result["hostname"], str)
    json.dumps(result)  # JSON-serialisable: the broker only carries JSON
    worker = _health(client)["worker"]
    assert worker["ok"] is True
    assert timezone.datetime.fromisoformat(worker["last_seen"]) >= before
    assert 0 <= worker["age_seconds"] < 5


@pytest.mark.django_db
def test_a_stale_heartbeat_is_reported_without_degrading(client):
    stale = timezone.now() - timedelta(seconds=tasks.stale_after_seconds() + 5)
    tasks.record_heartbeat("celery@old", now=stale)
    body = _health(client)
    assert body["status"] == "ok"
    assert body["worker"]["ok"] is False
    assert body["worker"]["age_seconds"] > tasks.stale_after_seconds()
    fresh = timezone.now() - timedelta(seconds=tasks.stale_after_seconds() - 5)
    tasks.record_heartbeat("celery@new", now=fresh)
    assert _health(client)["worker"]["ok"] is True


def test_staleness_follows_the_beat_schedule(settings):
    settings.CELERY_BEAT_SCHEDULE = {"heartbeat": {"task": "x", "schedule": timedelta(seconds=20)}}
    assert tasks.heartbeat_interval_seconds() == 20
    assert tasks.stale_after_seconds() == 60
    settings.CELERY_BEAT_SCHEDULE = {}
    assert tasks.stale_after_seconds() == 180


def test_an_unreadable_cache_is_reported_not_raised(monkeypatch):
    def broken():
        raise ConnectionError("cache down")

    monkeypatch.setattr(tasks, "last_heartbeat", broken)
    assert check_worker() == {"ok": False, "last_seen": None, "error": "ConnectionError"}


def test_beat_sends_a_heartbeat_as_it_starts():
    sent = []

    class FakeApp:
        def send_task(self, name):
            sent.append(name)

    class FakeBeatService:
        app = FakeApp()

    from celery.signals import beat_init

    beat_init.send(sender=FakeBeatService())
    assert sent == ["api.common.tasks.heartbeat"]


def test_the_schedule_names_the_real_task(settings):
    from api.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == tasks.HEARTBEAT_TASK == tasks.heartbeat.name
    app.loader.import_default_modules()
    assert tasks.HEARTBEAT_TASK in app.tasks
