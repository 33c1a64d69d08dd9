"""The notification fan-out benchmark: `make bench` (never part of `make test`).

Docs: docs/performance.md#notification-fan-out and docs/notifications.md. Needs
PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL=redis://…): a real
``celery -A api worker`` in another process must open the test database and the
broker (skipped with the reason otherwise).

1. Creates GOVDESK_BENCH_NOTIFY_USERS (1,000) people, each with an FCM device; a share
   (GOVDESK_BENCH_NOTIFY_WEBPUSH_SHARE, 0.1) also has a Web Push subscription minted by
   the receiver fake.
2. Starts the loopback fakes (notifications/fakes: FCM v1 checking the OAuth JWT,
   the Web Push receiver verifying VAPID and decrypting every payload) and the real
   worker (GOVDESK_BENCH_NOTIFY_CONCURRENCY prefork processes, default 2).
3. Commits GOVDESK_BENCH_NOTIFY_COUNT (10,000) reminders with ``notify_many`` in
   transactions of 500 -- the real path: outbox rows in the transaction, delivery
   tasks enqueued on commit -- and notes each transaction's commit time.
4. Waits until every outbox row is sent, then reports throughput (deliveries per
   second from the first commit to the last receipt) and p50/p95/max from a
   reminder's commit to the fake's receipt of its push, per channel; writes
   var/bench/notify.json.

The test asserts that every outbox row was delivered exactly once (the fakes saw
each idempotency key once); wall times are reported, not enforced.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from api.accounts.models import User
from api.notify.actions import Pending, address_key, notify_many
from api.notify.models import Delivery, DeliveryState, Device, DeviceKind
from notifications.fakes import running
from tests.deploy.helpers import REPO, clean_env, stop_process, tail
from tests.personas import make_org

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OUT = REPO / "var" / "bench" / "notify.json"
COUNT = int(os.environ.get("GOVDESK_BENCH_NOTIFY_COUNT", "10000"))
USERS = int(os.environ.get("GOVDESK_BENCH_NOTIFY_USERS", "1000"))
WEBPUSH_SHARE = float(os.environ.get("GOVDESK_BENCH_NOTIFY_WEBPUSH_SHARE", "0.1"))
CONCURRENCY = int(os.environ.get("GOVDESK_BENCH_NOTIFY_CONCURRENCY", "2"))
TIMEOUT = float(os.environ.get("GOVDESK_BENCH_NOTIFY_TIMEOUT", "900"))
BATCH = 500
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin"


def _redis_ok(url: str) -> bool:
    if not url.startswith(("redis://", "rediss://")):
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def _fcm_token(n: int) -> str:
    return f"bench{n:06d}:APA91b" + "x" * 120


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _people(gateways) -> tuple[list[User], int]:
    org = make_org()
    users = User.objects.bulk_create(
        [
            User(username=f"bench{n:05d}", display_name=f"用户{n}", unit=org.office, password="!")
            for n in range(USERS)
        ]
    )
    users = list(User.objects.filter(username__startswith="bench").order_by("id"))
    devices = [
        Device(
            user=u,
            kind=DeviceKind.FCM,
            token=_fcm_token(n),
            address_key=address_key(DeviceKind.FCM, _fcm_token(n)),
            label="bench",
        )
        for n, u in enumerate(users)
    ]
    webpush = int(USERS * WEBPUSH_SHARE)
    for u in users[:webpush]:
        info = gateways.webpush.subscribe(gateways.creds.vapid_public_key).info()
        devices.append(
            Device(
                user=u,
                kind=DeviceKind.WEBPUSH,
                subscription=info,
                address_key=address_key(DeviceKind.WEBPUSH, subscription=info),
                label="bench",
            )
        )
    Device.objects.bulk_create(devices)
    return users, webpush


def test_ten_thousand_reminders_through_a_real_worker(tmp_path):
    broker = settings.CELERY_BROKER_URL
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): the worker must open the test database")
    if not _redis_ok(broker):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://… (a reachable server)")

    from api.celery import app

    app.control.purge()
    with running() as (gateways, server):
        users, webpush_users = _people(gateways)
        creds = gateways.creds
        account = tmp_path / "fcm.json"
        account.write_text(json.dumps(creds.service_account))
        env = clean_env(
            DJANGO_SETTINGS_MODULE="api.settings",
            GOVDESK_MODE="test",
            GOVDESK_VAR_DIR=str(tmp_path / "var"),
            DATABASE_URL=_database_url(),
            REDIS_URL=settings.REDIS_URL or broker,
            CELERY_BROKER_URL=broker,
            GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE=str(account),
            GOVDESK_NOTIFY_FCM_URL=server.url + "fcm/v1/projects/{project_id}/messages:send",
            GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY=creds.vapid_private_key,
            GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT="mailto:bench@xincheng.gov.example",
        )
        logs = tmp_path / "worker.log"
        worker = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "api", "worker", f"--concurrency={CONCURRENCY}",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
             "-n", "notify-bench@%h"],
            cwd=REPO, env=env, stdout=logs.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not app.control.ping(timeout=1.0):
                assert worker.poll() is None, tail(logs, 60)
                assert time.monotonic() < deadline, "the worker did not start\n" + tail(logs)

            commit_at: dict[int, float] = {}  # notification id → commit time
            started = time.time()
            for start in range(0, COUNT, BATCH):
                with transaction.atomic():
                    written = notify_many(
                        [
                            Pending(
                                users[n % USERS],
                                "urge",
                                f"催办：请尽快处理第 {n} 件",
                                body="临近办理时限",
                                urgency="high",
                                dedup_key=f"bench:{n}",
                            )
                            for n in range(start, min(COUNT, start + BATCH))
                        ]
                    )
                committed = time.time()  # on_commit has enqueued this batch's deliveries
                commit_at.update((n.pk, committed) for n in written)
            committed_all = time.time()
            total = Delivery.objects.count()
            expected = COUNT + (COUNT // USERS) * webpush_users
            assert total == expected, (total, expected)

            deadline = time.monotonic() + TIMEOUT
            while Delivery.objects.filter(state=DeliveryState.SENT).count() < total:
                assert worker.poll() is None, tail(logs, 60)
                states = Counter(Delivery.objects.values_list("state", flat=True))
                assert not states.get(DeliveryState.FAILED), (states, tail(logs, 60))
                assert time.monotonic() < deadline, (states, tail(logs, 60))
                time.sleep(0.5)
        finally:
            stop_process(worker, signal.SIGTERM, timeout=30)

        lines = gateways.journal.since(0)
    delivery_of = dict(
        Delivery.objects.values_list("id", "notification_id")
    )  # delivery id → notification id
    keys: Counter[str] = Counter()
    latency: dict[str, list[float]] = {"fcm": [], "webpush": []}
    for line in lines:
        if line["service"] == "fcm":
            key = line["data"]["idempotency_key"]
        else:
            key = line["payload"]["idempotency_key"]
        keys[key] += 1
        delivery_id = int(key.rsplit("-", 1)[1])
        latency[line["service"]].append(line["received_at"] - commit_at[delivery_of[delivery_id]])
    assert len(keys) == total and set(keys.values()) == {1}  # each once, none lost

    last = max(line["received_at"] for line in lines)
    everything = latency["fcm"] + latency["webpush"]
    seconds = last - started
    rows: list[tuple[str, list[float]]] = [
        ("FCM", latency["fcm"]), ("Web Push", latency["webpush"]), ("all", everything),
    ]  # fmt: skip
    print()
    print(
        f"{COUNT:,} reminders to {USERS:,} people ({webpush_users} also on Web Push) → "
        f"{total:,} push deliveries; real worker, --concurrency={CONCURRENCY}, "
        f"PostgreSQL + Redis, loopback fakes"
    )
    print(f"committing all reminders took {committed_all - started:6.2f} s")
    print(f"{'channel':10} {'sent':>7} {'p50 s':>8} {'p95 s':>8} {'max s':>8}")
    for name, values in rows:
        if values:
            print(
                f"{name:10} {len(values):7d} {statistics.median(values):8.2f} "
                f"{_percentile(values, 0.95):8.2f} {max(values):8.2f}"
            )
    print(
        f"throughput: {total / seconds:,.0f} deliveries/s "
        f"({total:,} in {seconds:.1f} s, first commit → last receipt)"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "reminders": COUNT,
        "users": USERS,
        "deliveries": total,
        "concurrency": CONCURRENCY,
        "seconds": seconds,
        "throughput_per_s": total / seconds,
        "p50_s": statistics.median(everything),
        "p95_s": _percentile(everything, 0.95),
        "max_s": max(everything),
        "per_channel": {
            name: {"n": len(v), "p50_s": statistics.median(v), "p95_s": _percentile(v, 0.95)}
            for name, v in latency.items()
            if v
        },
    }
    OUT.write_text(json.dumps(result, indent=2))
