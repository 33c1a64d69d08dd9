"""The approval API benchmark: `make bench` (never part of `make test`).

Docs: docs/performance.md. Needs PostgreSQL (DATABASE_URL; skipped otherwise) — the
database named there is seeded *for real* (not a test database) and reused by later
runs: use a dedicated one, e.g. ``postgres://postgres@127.0.0.1:5432/govdesk_bench``.

1. Seeds the reference city (seed_demo --scale city) plus 200k documents and ~1.1M
   tasks by COPY (tests/bench/seed_approval.py; reused when already there).
2. Prepares fresh, really submitted documents whose review step waits for the demo
   ``director`` (the approve measurements act on them through the real engine).
3. Starts gunicorn on loopback with the process model of docker/compose.yaml's web
   (gthread, 4 threads per worker, GOVDESK_BENCH_WORKERS workers, default 4 =
   WEB_CONCURRENCY's default).
4. Measures p50/p95 of (a) GET /api/v1/me/, (b) the to-do list's first page
   (GET /api/v1/tasks/?page_size=20, gzip), (c) the one-tap approve (an empty POST
   with an Idempotency-Key), each at 1 and 32 concurrent clients (threads with
   requests; bounded by GOVDESK_BENCH_REQUESTS per client and GOVDESK_BENCH_SECONDS).
5. Prints the ratios b/a and c/a (targets: b ≤ 3×, c ≤ 5× at p50) and writes
   var/bench/approval.json.

Nothing asserts on wall time (targets are reported, not enforced); the test asserts
that every measured request succeeded, so a broken endpoint cannot pass for fast.
Scale knobs: GOVDESK_BENCH_DOCUMENTS (200000), GOVDESK_BENCH_TASKS_PER_DOCUMENT (6).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench" / "approval.json"
DOCUMENTS = int(os.environ.get("GOVDESK_BENCH_DOCUMENTS", "200000"))
TASKS_PER_DOCUMENT = int(os.environ.get("GOVDESK_BENCH_TASKS_PER_DOCUMENT", "6"))
WORKERS = int(os.environ.get("GOVDESK_BENCH_WORKERS", "4"))
REQUESTS = int(os.environ.get("GOVDESK_BENCH_REQUESTS", "200"))  # per level, see _plan
SECONDS = float(os.environ.get("GOVDESK_BENCH_SECONDS", "30"))
LEVELS = (1, 32)
APPROVE_PER_CLIENT = {1: 60, 32: 8}
BENCH_USER = "director"

pytestmark = pytest.mark.skipif(
    not settings.DATABASE_IS_POSTGRES,
    reason="the approval benchmark needs PostgreSQL: set DATABASE_URL (a dedicated database)",
)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def seeded(django_db_blocker):
    from tests.bench.seed_approval import seed

    with django_db_blocker.unblock():
        info = seed(documents=DOCUMENTS, tasks_per_document=TASKS_PER_DOCUMENT)
        from api.documents.models import Document
        from api.workflow.models import Task

        info["documents_total"] = Document.objects.count()
        info["tasks_total"] = Task.objects.count()
        from api.accounts.models import Unit, User

        info["units"] = Unit.objects.count()
        info["users"] = User.objects.count()
    return info


def _prepare_approvals(count: int) -> list[int]:
    """``count`` documents really drafted and submitted; the director's review task ids."""
    from api.accounts.models import User
    from api.documents.actions import create_draft
    from api.workflow import actions
    from api.workflow.models import Task, WorkflowTemplate

    clerk = User.objects.get(username="clerk")
    template = WorkflowTemplate.objects.get(name="市政府办公室发文", is_active=True)
    leaders = [User.objects.get(username=f"leader{i}").pk for i in (1, 2, 3)]
    mayor = User.objects.get(username="mayor").pk
    ids = []
    for i in range(count):
        document = create_draft(
            clerk,
            direction="outgoing",
            title=f"[bench-approve] 关于第{i}项工作的通知",
            doc_type="notice",
            urgency="normal",
            body=[{"level": 0, "text": "现将有关事项通知如下。"}],
        )
        actions.submit(
            document.pk,
            clerk,
            template_id=template.pk,
            participants={"countersigners": leaders, "sign_off_by": mayor},
        )
        task = Task.objects.get(document=document, step_kind="review", state="open")
        ids.append(task.pk)
    return ids


def _tokens(n: int) -> list[str]:
    from api.accounts.models import User
    from api.accounts.tokens import issue_tokens, open_session

    user = User.objects.get(username=BENCH_USER)
    return [
        issue_tokens(user, open_session(user, device_name=f"bench{i}")).access for i in range(n)
    ]


@pytest.fixture(scope="module")
def server(seeded):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "api.settings",
        "GOVDESK_MODE": "development",
        "PYTHONUNBUFFERED": "1",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    log = open(OUT.parent / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "api.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            "--threads=4",
            "--timeout=60",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/health/", timeout=2).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _measure(
    clients: int,
    per_client: int,
    tokens: list[str],
    call: Callable[[requests.Session, int, int], requests.Response],
) -> dict[str, Any]:
    samples: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    stop_at = time.monotonic() + SECONDS + 5

    def run(index: int) -> None:
        session = requests.Session()
        session.headers.update(
            {"Authorization": f"Bearer {tokens[index]}", "Accept-Encoding": "gzip"}
        )
        barrier.wait()
        mine = []
        for j in range(per_client):
            if time.monotonic() > stop_at:
                break
            started = time.perf_counter()
            response = call(session, index, j)
            elapsed = time.perf_counter() - started
            mine.append(elapsed)
            if response.status_code != 200:
                with lock:
                    failures.append(f"{response.status_code} {response.text[:200]}")
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(samples),
        "p50_ms": round(_percentile(samples, 0.50) * 1000, 2),
        "p95_ms": round(_percentile(samples, 0.95) * 1000, 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
        "throughput_rps": round(len(samples) / wall, 1),
        "failures": failures[:5],
        "failed": len(failures),
    }


def test_approval_api_benchmark(seeded, server, django_db_blocker):
    with django_db_blocker.unblock():
        tokens = _tokens(max(LEVELS))
        approvals = {
            level: _prepare_approvals(level * APPROVE_PER_CLIENT[level]) for level in LEVELS
        }

    def me(session, _i, _j):
        return session.get(f"{server}/api/v1/me/", timeout=60)

    def todo(session, _i, _j):
        return session.get(f"{server}/api/v1/tasks/", params={"page_size": 20}, timeout=60)

    def approver(level):
        ids = approvals[level]
        per = APPROVE_PER_CLIENT[level]

        def approve(session, i, j):
            task_id = ids[i * per + j]
            return session.post(
                f"{server}/api/v1/tasks/{task_id}/approve/",
                headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"},
                timeout=60,
            )

        return approve

    # Warm-up: every worker process imports and connects.
    warm = requests.Session()
    warm.headers["Authorization"] = f"Bearer {tokens[0]}"
    for _ in range(4 * WORKERS):
        warm.get(f"{server}/api/v1/me/", timeout=60)
        warm.get(f"{server}/api/v1/tasks/", params={"page_size": 20}, timeout=60)
    first_page = warm.get(
        f"{server}/api/v1/tasks/",
        params={"page_size": 20},
        headers={"Accept-Encoding": "gzip"},
        timeout=60,
    )
    gzip_bytes = int(first_page.headers.get("Content-Length", len(first_page.content)))
    page_items = len(first_page.json()["results"])

    runs: dict[str, dict[str, Any]] = {}
    for level in LEVELS:
        per_client = max(5, REQUESTS // level) if level > 1 else REQUESTS
        runs[str(level)] = {
            "a_me": _measure(level, per_client, tokens, me),
            "b_todo_first_page": _measure(level, per_client, tokens, todo),
            "c_approve": _measure(level, APPROVE_PER_CLIENT[level], tokens, approver(level)),
        }
    ratios = {
        level: {
            "b/a_p50": round(r["b_todo_first_page"]["p50_ms"] / r["a_me"]["p50_ms"], 2),
            "c/a_p50": round(r["c_approve"]["p50_ms"] / r["a_me"]["p50_ms"], 2),
            "b/a_p95": round(r["b_todo_first_page"]["p95_ms"] / r["a_me"]["p95_ms"], 2),
            "c/a_p95": round(r["c_approve"]["p95_ms"] / r["a_me"]["p95_ms"], 2),
        }
        for level, r in runs.items()
    }
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": seeded,
        "server": {
            "gunicorn_workers": WORKERS,
            "threads_per_worker": 4,
            "worker_class": "gthread",
            "cpus": os.cpu_count(),
        },
        "bench_user": BENCH_USER,
        "todo_first_page": {"items": page_items, "gzip_bytes": gzip_bytes},
        "runs": runs,
        "ratios": ratios,
        "targets": {"b/a_p50": 3.0, "c/a_p50": 5.0, "gzip_bytes_20_items": 4096},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    print()
    print(
        f"scale: {seeded['units']} units, {seeded['users']:,} users, "
        f"{seeded['documents_total']:,} documents, {seeded['tasks_total']:,} tasks"
    )
    print(f"to-do first page: {page_items} items, {gzip_bytes} bytes gzipped")
    print(f"{'clients':>7} {'endpoint':20} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'rps':>7}")
    for level, r in runs.items():
        for name, m in r.items():
            print(
                f"{level:>7} {name:20} {m['requests']:5} {m['p50_ms']:8.1f} "
                f"{m['p95_ms']:8.1f} {m['throughput_rps']:7.1f}"
            )
    for level, ratio in ratios.items():
        print(
            f"{level:>2} clients: b/a = {ratio['b/a_p50']:.2f} (target ≤ 3), "
            f"c/a = {ratio['c/a_p50']:.2f} (target ≤ 5) at p50"
        )
    print(f"written: {OUT.relative_to(ROOT)}")

    for r in runs.values():
        for name, m in r.items():
            assert m["failed"] == 0, (name, m["failures"])
            assert m["requests"] > 0, name
    assert page_items == 20
