"""Seeding for the approval benchmark (docs/performance.md#what-it-does).

PostgreSQL only. Loads the reference city (``seed_demo --scale city``: 375 units,
8,165 users) and then ``documents`` documents with one workflow instance each and
up to ``tasks_per_document`` tasks (200k documents, about 1.1M tasks by default) with COPY, in
a few minutes. Rows are generated from the models' own field lists (defaults for the
columns we do not set), so a new column with a default does not break the seeding.

The shape: 80 % of documents completed (every task done), 20 % running (earlier tasks
done, the current one open). Assignees are drawn at random from the scale users, so
an ordinary person has a handful of open tasks and a few hundred done ones; the
benchmark's own person (the demo ``director``) additionally gets ``director_open``
open tasks and ``director_done`` done tasks, a heavy but realistic to-do list.

Reuse: a marker row in ``govdesk_bench_marker`` (created here) remembers what was
loaded; a second run with the same numbers does nothing.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.db.models import Max, Model
from django.utils import timezone

BENCH_TITLE = "[bench] "
URGENCIES = [("normal", 0, 0.8), ("urgent", 1, 0.15), ("very_urgent", 2, 0.05)]
STEPS = [
    ("review", "核稿"),
    ("countersign", "会签"),
    ("countersign", "会签"),
    ("countersign", "会签"),
    ("sign_off", "签发"),
    ("distribute", "分发"),
]


def _log(message: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _columns(model: type[Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields]


def copy_rows(model: type[Model], rows: Iterable[dict[str, Any]]) -> int:
    """COPY ``rows`` (dicts keyed by attname; ``id`` included) into ``model``'s table."""
    fields = _columns(model)
    # Django's own default for each column ("" for blank text, None for nullable, …).
    defaults = {field.attname: field.get_default() for field in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        _text(row[f.attname] if f.attname in row else defaults.get(f.attname))
                        for f in fields
                    ]
                )
                count += 1
    return count


def _reset_sequence(model: type[Model]) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 1))",
            [table],
        )


def _urgency(roll: float) -> tuple[str, int]:
    acc = 0.0
    for name, rank, share in URGENCIES:
        acc += share
        if roll <= acc:
            return name, rank
    return URGENCIES[0][0], URGENCIES[0][1]


def _marker(expected: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS govdesk_bench_marker "
            "(what text PRIMARY KEY, at timestamptz)"
        )
        cursor.execute("SELECT 1 FROM govdesk_bench_marker WHERE what = %s", [expected])
        return cursor.fetchone() is not None


def _set_marker(what: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO govdesk_bench_marker (what, at) VALUES (%s, now()) "
            "ON CONFLICT (what) DO NOTHING",
            [what],
        )


def seed(
    documents: int = 200_000,
    tasks_per_document: int = 6,
    director_open: int = 300,
    director_done: int = 5_000,
    seed_value: int = 20261124,
) -> dict[str, Any]:
    """Load the city and the bulk rows (idempotent). Returns what is in place."""
    from api.accounts.models import Unit, User
    from api.documents.models import Document
    from api.workflow.models import Task, WorkflowInstance, WorkflowTemplate

    assert connection.vendor == "postgresql", "the benchmark seeds PostgreSQL only"
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    if User.objects.count() < 8_000:
        _log("seed_demo --scale city …")
        call_command("seed_demo", scale="city", verbosity=0)
    what = f"approval:{documents}:{tasks_per_document}:{director_open}:{director_done}"
    if _marker(what):
        _log(f"reusing the seeded data ({what})")
        return {"what": what, "seconds": time.monotonic() - started, "reused": True}

    rng = random.Random(seed_value)
    users = list(User.objects.filter(is_active=True).values_list("id", "unit_id"))
    director = User.objects.get(username="director")
    template = WorkflowTemplate.objects.order_by("id").first()
    assert template is not None, "seed_demo must create the demo workflow templates"
    unit_ids = list(Unit.objects.values_list("id", flat=True))
    assert unit_ids
    now = timezone.now()
    doc_base = (Document.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    inst_base = (WorkflowInstance.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    task_base = (Task.objects.aggregate(m=Max("id"))["m"] or 0) + 1

    plan: list[tuple[int, str, int, bool]] = []  # (drafter, urgency, rank, running)
    for _ in range(documents):
        name, rank = _urgency(rng.random())
        plan.append((rng.choice(users)[0], name, rank, rng.random() < 0.2))
    unit_of = dict(users)

    def document_rows() -> Iterator[dict[str, Any]]:
        for i, (drafter, urgency, _rank, running) in enumerate(plan):
            created = now - timedelta(minutes=10 * (documents - i))
            yield {
                "id": doc_base + i,
                "direction": "outgoing",
                "title": f"{BENCH_TITLE}关于做好第{i}号事项相关工作的通知",
                "doc_type": "notice",
                "urgency": urgency,
                "classification": "none",
                "unit_id": unit_of[drafter],
                "drafter_id": drafter,
                "body": [{"level": 0, "text": "各有关单位：现将有关事项通知如下。"}],
                "doc_number": "",
                "status": "in_progress" if running else "completed",
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }

    def instance_rows() -> Iterator[dict[str, Any]]:
        for i, (drafter, _u, _r, running) in enumerate(plan):
            started_at = now - timedelta(minutes=10 * (documents - i))
            yield {
                "id": inst_base + i,
                "document_id": doc_base + i,
                "template_id": template.pk,
                "state": "running" if running else "completed",
                "current_step_order": 1,
                "steps": [],
                "participants": {},
                "started_by_id": drafter,
                "started_at": started_at,
                "finished_at": None if running else started_at + timedelta(days=2),
            }

    director_open_left = director_open
    director_done_left = director_done

    def task_rows() -> Iterator[dict[str, Any]]:
        nonlocal director_open_left, director_done_left
        next_id = task_base
        for i, (drafter, urgency, rank, running) in enumerate(plan):
            received = now - timedelta(minutes=10 * (documents - i))
            open_at = rng.randrange(tasks_per_document) if running else -1
            for position in range(tasks_per_document):
                kind, name = STEPS[position % len(STEPS)]
                is_open = position == open_at
                if position > open_at >= 0:
                    break  # later steps of a running document do not exist yet
                assignee = rng.choice(users)[0]
                if is_open and director_open_left > 0 and rng.random() < 0.05:
                    assignee, director_open_left = director.pk, director_open_left - 1
                elif not is_open and director_done_left > 0 and rng.random() < 0.03:
                    assignee, director_done_left = director.pk, director_done_left - 1
                received_at = received + timedelta(hours=6 * position)
                due_at = received_at + timedelta(days=3 if kind == "countersign" else 1)
                if is_open:
                    # spread the open ones around "now": some overdue, most not yet.
                    due_at = now + timedelta(hours=rng.randint(-48, 96))
                yield {
                    "id": next_id,
                    "instance_id": inst_base + i,
                    "document_id": doc_base + i,
                    "step_order": position + 1,
                    "step_kind": kind,
                    "step_name": name,
                    "position": 0,
                    "assignee_id": assignee,
                    "on_behalf_of_id": None,
                    "sender_id": drafter,
                    "state": "open" if is_open else "done",
                    "received_at": received_at,
                    "due_at": due_at,
                    "paused_at": None,
                    "paused_seconds": 0,
                    "acted_at": None if is_open else received_at + timedelta(hours=2),
                    "working_seconds": None if is_open else 7200,
                    "action": "" if is_open else "approve",
                    "opinion": "" if is_open else "同意",
                    "confirmed_with": "",
                    "read_at": None if is_open else received_at + timedelta(hours=1),
                    "batchable": False,
                    "urgency": urgency,
                    "urgency_rank": rank,
                    "detail": {},
                    "created_at": received_at,
                }
                next_id += 1

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    _log(f"COPY {documents:,} documents …")
    copy_rows(Document, document_rows())
    _log(f"COPY {documents:,} workflow instances …")
    copy_rows(WorkflowInstance, instance_rows())
    _log("COPY tasks …")
    tasks = copy_rows(Task, task_rows())
    for model in (Document, WorkflowInstance, Task):
        _reset_sequence(model)
    with connection.cursor() as cursor:
        for model in (Document, WorkflowInstance, Task):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    _set_marker(what)
    elapsed = time.monotonic() - started
    _log(f"seeded {documents:,} documents and {tasks:,} tasks in {elapsed:.0f} s")
    return {"what": what, "tasks": tasks, "seconds": elapsed, "reused": False}
