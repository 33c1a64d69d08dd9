"""Crashes mid-burst on PostgreSQL + Redis: every keyed request ends exactly once.

Docs: docs/api.md#idempotency. A real gunicorn serves 100 keyed requests from 8
threads — 50 sign-offs (签发, each followed by the automatic number step) and 50 new
drafts — and is SIGKILLed (master and workers) after the first answers. It is started
again and every request is retried with its own key: each answer is the committed
one (replayed) or the action performed now, never 409 ``conflict``; each document is
drafted once, each sign-off recorded once, and the document numbers have no gap.

A second test restarts a private Redis (its own redis-server on a free port, never the
shared one) in the middle of 100 approvals: no approval that committed is answered
with a 5xx, and a retry with the same key answers 200.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.db import connection

from api.accounts.tokens import issue_tokens, open_session
from api.audit.models import AuditEvent
from api.documents.models import Document, NumberAssignment
from api.workflow.models import Task, TaskState
from tests.conftest import requires_postgres
from tests.deploy.helpers import free_port
from tests.live_web import LiveWeb

pytestmark = [requires_postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DRAFT = {
    "direction": "outgoing",
    "doc_type": "notice",
    "urgency": "normal",
    "body": [{"level": 0, "text": "各区县人民政府："}],
    "main_recipients": "各区县人民政府",
}


@dataclass
class Call:
    method: str
    path: str
    token: str
    body: dict
    key: str = field(default_factory=lambda: f"crash-{uuid.uuid4()}")
    first: tuple[int, dict] | None = None
    retry: tuple[int, dict, bool] | None = None


def send(base: str, call: Call, timeout: float = 60) -> tuple[int, dict, bool]:
    request = urllib.request.Request(
        base + call.path,
        data=json.dumps(call.body).encode(),
        method=call.method,
        headers={
            "Authorization": f"Bearer {call.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": call.key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            return response.status, json.loads(response.read() or b"null"), replayed
    except urllib.error.HTTPError as error:
        replayed = error.headers.get("Idempotent-Replayed") == "true"
        return error.code, json.loads(error.read() or b"null"), replayed


def token(username: str) -> str:
    from api.accounts.models import User

    user = User.objects.get(username=username)
    return issue_tokens(user, open_session(user, device_name="crash-test")).access


def open_task(username: str, document_id: int) -> int:
    return Task.objects.get(
        document_id=document_id, assignee__username=username, state=TaskState.OPEN
    ).pk


def to_sign_off(demo, count: int) -> list[int]:
    """``count`` documents waiting for the mayor's sign-off; returns the task ids."""
    ids = []
    for i in range(count):
        document_id = demo.draft(title=f"签发前-{i}")
        demo.submit(document_id, countersigners=())
        review = open_task("director", document_id)
        assert demo.approve("director", review).status_code == 200
        ids.append(open_task("mayor", document_id))
    return ids


def burst(base: str, calls: list[Call], kill_after: int, kill) -> None:
    """Send every call from 8 threads; after ``kill_after`` answers, crash the server."""
    answered = threading.Semaphore(0)
    lock = threading.Lock()
    count = [0]

    def one(call: Call) -> None:
        try:
            status, body, _ = send(base, call, timeout=30)
        except OSError:  # the crash: reset, refused, remote closed
            return
        call.first = (status, body)
        with lock:
            count[0] += 1
            if count[0] == kill_after:
                answered.release()

    killer = threading.Thread(target=lambda: (answered.acquire(timeout=120), kill()))
    killer.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, calls))
    killer.join()


def test_kill_9_mid_burst_then_retry_every_key(demo, tmp_path):
    from tests.api.workflow.http.test_crash_pg import _redis_url

    sign_offs = to_sign_off(demo, 50)
    numbers_before = NumberAssignment.objects.count()
    mayor, clerk = token("mayor"), token("clerk")
    calls = [Call("POST", f"/api/v1/tasks/{t}/approve/", mayor, {}) for t in sign_offs]
    calls += [
        Call("POST", "/api/v1/documents/", clerk, {**DRAFT, "title": f"崩溃测试-{i:03d}"})
        for i in range(50)
    ]
    calls = [c for pair in zip(calls[:50], calls[50:], strict=True) for c in pair]
    web = LiveWeb(tmp_path / "var", workers=2, threads=4, REDIS_URL=_redis_url())
    web.start()
    try:
        burst(web.url, calls, kill_after=30, kill=web.kill)
        answered_first = [c for c in calls if c.first is not None]
        assert 30 <= len(answered_first) < len(calls), "the crash must come mid-burst"
        web.start()  # restart after the crash
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda c: send(web.url, c), calls))
        for call, result in zip(calls, results, strict=True):
            call.retry = result
    finally:
        web.stop()

    statuses = [c.retry[0] for c in calls if c.retry]
    codes = [
        c.retry[1].get("error", {}).get("code") for c in calls if c.retry and c.retry[0] >= 400
    ]
    assert "conflict" not in codes and "idempotency_in_progress" not in codes, codes
    assert set(statuses) <= {200, 201}, statuses
    for call in answered_first:  # what the client already saw is what it sees again
        assert call.retry is not None and call.retry[2] is True, call.path
        assert (call.retry[0], call.retry[1]) == call.first
    # Exactly once: one document per draft key, one sign-off per task.
    titles = list(
        Document.objects.filter(title__startswith="崩溃测试-").values_list("title", flat=True)
    )
    assert sorted(titles) == [f"崩溃测试-{i:03d}" for i in range(50)]
    for task_id in sign_offs:
        assert Task.objects.get(pk=task_id).state == TaskState.DONE
    signed = AuditEvent.objects.filter(action="task.approved", actor_username="mayor")
    assert signed.count() == 50
    # Numbers gap-free: the 50 sign-offs took the next 50 values, no more, no hole.
    values = sorted(NumberAssignment.objects.values_list("value", flat=True))
    assert len(values) == numbers_before + 50
    assert values == list(range(values[0], values[0] + len(values)))
    call_command("verify_audit", verbosity=0)


# --- Redis restarted mid-burst -------------------------------------------------------------

_private: dict[str, str] = {}


def _redis_url() -> str:
    """The shared Redis db of this run, unless a test started a private server."""
    from django.conf import settings

    return _private.get("url") or settings.REDIS_URL


class PrivateRedis:
    def __init__(self, directory) -> None:
        self.port = free_port()
        self.dir = directory
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def test_redis_restart_mid_burst_never_turns_a_committed_approval_into_a_5xx(demo, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (Debian package redis-server)")
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    reviews = []
    for i in range(100):
        document_id = demo.draft(title=f"核稿-{i}")
        demo.submit(document_id, countersigners=())
        reviews.append(open_task("director", document_id))
    director = token("director")
    calls = [Call("POST", f"/api/v1/tasks/{t}/approve/", director, {}) for t in reviews]
    web = LiveWeb(
        tmp_path / "var",
        workers=2,
        threads=4,
        REDIS_URL=redis_server.url,
        CELERY_BROKER_URL=redis_server.url,
    )
    web.start()
    try:
        answered = [0]
        lock = threading.Lock()
        restarted = threading.Event()

        def one(call: Call) -> None:
            try:
                status, body, _ = send(web.url, call, timeout=60)
            except OSError:
                return
            call.first = (status, body)
            with lock:
                answered[0] += 1
                if answered[0] == 30 and not restarted.is_set():
                    restarted.set()
                    redis_server.stop()  # Redis goes away mid-burst...
                    threading.Timer(1.0, redis_server.start).start()  # ...and comes back

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(one, calls))
        with connection.cursor():
            pass
        committed = {t.pk for t in Task.objects.filter(pk__in=reviews) if t.state == TaskState.DONE}
        bad = [
            (c.path, c.first)
            for c, task_id in zip(calls, reviews, strict=True)
            if c.first is not None and c.first[0] >= 500 and task_id in committed
        ]
        assert bad == [], "a committed approval was answered with a 5xx"
        with ThreadPoolExecutor(max_workers=8) as pool:
            retries = list(pool.map(lambda c: send(web.url, c), calls))
    finally:
        web.stop()
        redis_server.stop()
    assert {status for status, _, _ in retries} == {200}
    assert Task.objects.filter(pk__in=reviews, state=TaskState.DONE).count() == 100
    approved = AuditEvent.objects.filter(action="task.approved", actor_username="director")
    assert approved.count() == 100
