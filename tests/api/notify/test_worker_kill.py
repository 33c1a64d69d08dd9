"""A real Celery worker on Redis, SIGKILLed mid-delivery: nothing lost, nothing doubled.

Docs: docs/notifications.md#the-outbox-and-the-worker. The test commits ten
notifications (each enqueues its delivery after commit, the real path), starts
``celery -A api worker`` against the test database and the Redis broker, and makes
the loopback FCM fake hang on the first push it receives. With the worker stuck
mid-delivery it is killed (SIGKILL, the whole process group), then started again.
The other nine go out; the killed row's lease runs out and the beat sweep hands it
to the new worker. At the end every row is sent and the fake accepted each
idempotency key exactly once.

Needs Redis (CELERY_BROKER_URL=redis://…) and a database another process can open
(PostgreSQL: pytest's SQLite test database lives in memory).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from api.notify import tasks
from api.notify.actions import notify, register_device
from api.notify.models import Delivery, DeliveryState
from notifications.fakes import FcmFake, Received, fcm_error, serve
from tests.api.notify.conftest import fcm_token
from tests.deploy.helpers import REPO, clean_env, stop_process, tail

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"
LEASE_SECONDS = 5
COUNT = 10


def _redis_ok(url: str) -> bool:
    if not url.startswith(("redis://", "rediss://")):
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


class HangOnFirstPush:
    """Wraps the FCM fake: the first ``messages:send`` hangs until released (the
    worker is killed meanwhile) and is never accepted; everything else is normal."""

    def __init__(self, fake: FcmFake) -> None:
        self.fake = fake
        self.hanging = threading.Event()
        self.release = threading.Event()
        self._first = True
        self._lock = threading.Lock()

    def __call__(self, req: Received) -> tuple[int, Any]:
        if req.path.endswith("messages:send"):
            with self._lock:
                first, self._first = self._first, False
            if first:
                self.hanging.set()
                self.release.wait(60)
                return fcm_error(503, "UNAVAILABLE", "UNAVAILABLE")
        return self.fake(req)


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def _wait(predicate, timeout: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n--- worker log ---\n{tail(logs, 80)}")


def _states() -> Counter:
    return Counter(Delivery.objects.values_list("state", flat=True))


def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_nothing(demo, tmp_path):
    broker = settings.CELERY_BROKER_URL
    if not _redis_ok(broker):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://… (a reachable server)")
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the worker must open the test database (SQLite's is in memory)"
        )

    from api.celery import app

    app.control.purge()  # this test's Redis DB: drop deliveries queued by earlier tests

    fake = FcmFake()
    hang = HangOnFirstPush(fake)
    with serve(hang) as server:
        fake.url = server.url
        account = tmp_path / "fcm.json"
        account.write_text(json.dumps(fake.service_account()))
        env = clean_env(
            DJANGO_SETTINGS_MODULE="api.settings",
            GOVDESK_MODE="test",
            GOVDESK_VAR_DIR=str(tmp_path / "var"),
            DATABASE_URL=_database_url(),
            REDIS_URL=settings.REDIS_URL or broker,
            CELERY_BROKER_URL=broker,
            GOVDESK_NOTIFY_LEASE_SECONDS=str(LEASE_SECONDS),
            GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE=str(account),
            GOVDESK_NOTIFY_FCM_URL=server.url + "v1/projects/{project_id}/messages:send",
        )
        logs = tmp_path / "worker.log"

        def start(name: str) -> subprocess.Popen:
            return subprocess.Popen(
                [str(VENV_BIN / "celery"), "-A", "api", "worker", "--pool=solo",
                 "--concurrency=1", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "-l", "INFO", "-n", f"{name}@%h"],
                cwd=REPO, env=env, stdout=logs.open("ab"), stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

        user = demo.user("leader1")
        register_device(user, kind="fcm", token=fcm_token(), label="手机")
        for i in range(COUNT):  # ten committed actions, ten deliveries enqueued on commit
            notify(recipient=user, kind="system", title=f"消息{i}", dedup_key=f"kill:{i}")
        rows = list(Delivery.objects.order_by("id"))
        assert len(rows) == COUNT

        first = start("notify-kill-1")
        try:
            _wait(hang.hanging.is_set, 60, "the worker to reach the fake", logs)
            stuck = [d for d in Delivery.objects.all() if d.state == DeliveryState.SENDING]
            assert len(stuck) == 1  # mid-delivery: claimed, request in flight
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
            hang.release.set()
        assert fake.sent == []  # the hung push was never accepted

        second = start("notify-kill-2")
        try:
            _wait(lambda: _states()[DeliveryState.SENT] == COUNT - 1, 90, "the other nine", logs)
            stuck_row = Delivery.objects.get(pk=stuck[0].pk)
            assert stuck_row.state == DeliveryState.SENDING  # still held by the dead worker
            # Its lease runs out (the event is the clock passing lease_until, which the
            # sweep compares with timezone.now(): wait for exactly that) …
            assert stuck_row.lease_until is not None
            while (left := (stuck_row.lease_until - timezone.now()).total_seconds()) >= 0:
                time.sleep(left + 0.01)
            assert tasks.sweep() >= 1  # … and beat's sweep hands it to the live worker
            _wait(lambda: _states()[DeliveryState.SENT] == COUNT, 60, "the killed row", logs)
        finally:
            stop_process(second, signal.SIGTERM, timeout=20)

    keys = Counter(message["data"]["idempotency_key"] for message in fake.sent)
    assert set(keys) == {d.idempotency_key for d in rows}  # none lost
    assert set(keys.values()) == {1}  # none twice
    again = Delivery.objects.get(pk=stuck[0].pk)
    assert again.attempts == 2 and again.state == DeliveryState.SENT
