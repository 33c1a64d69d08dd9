"""Internal mail benchmark (docs/mail.md#performance): `make bench`, never `make test`.

Needs PostgreSQL (skipped otherwise). Seeds, in the test database, GOVDESK_BENCH_MAIL_DELIVERIES
(default 5,000,000) mail deliveries (``Entry`` rows: one tenth as many mails, ten
recipients each, among GOVDESK_BENCH_MAIL_PEOPLE people) with INSERT … SELECT, then
measures in-process (Django test client, no network) the p50 of:

(a) the trivial endpoint ``GET /api/v1/me/``,
(b) the inbox's first page ``GET /api/v1/mail/messages/?page_size=20``,
(c) a search ``GET /api/v1/mail/messages/?q=…``,

and the wall time of one send to 1,000 recipients (one request, committed). Prints
b/a (target ≤ 3×), c/a (≤ 5×) and the send time (target < 1 s) and writes
var/bench/mail.json. Nothing asserts on time; every request must succeed.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.personas import Role, client_for, make_unit, make_user

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench" / "mail.json"
DELIVERIES = int(os.environ.get("GOVDESK_BENCH_MAIL_DELIVERIES", "5000000"))
PEOPLE = int(os.environ.get("GOVDESK_BENCH_MAIL_PEOPLE", "1000"))
SAMPLES = int(os.environ.get("GOVDESK_BENCH_SAMPLES", "40"))

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASE_IS_POSTGRES, reason="the mail benchmark needs PostgreSQL"
    ),
    pytest.mark.django_db,
]


def _seed(unit, sender) -> list[int]:
    from api.accounts.models import User

    User.objects.bulk_create(
        [
            User(username=f"mb{i:05d}", display_name=f"收件人{i}", unit=unit, password="!")
            for i in range(PEOPLE)
        ]
    )
    ids = list(
        User.objects.filter(username__startswith="mb").order_by("pk").values_list("pk", flat=True)
    )
    mails = max(1, DELIVERIES // 10)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mail_mail (sender_id, subject, body, addresses, state, urgent, search_text,
                size, recipient_count, fanout_done, sent_at, recalled_at, created_at, updated_at,
                thread_id, in_reply_to_id, idempotency_key)
            SELECT %s, '第' || g || '号工作通知', '正文内容' || g, '[]'::jsonb, 'sent', false,
                '第 ' || g || ' 号 工作 通知 '
                    || CASE WHEN g %% 1000 = 0 THEN '防汛 专项 检查' ELSE '日常 工作 安排' END,
                40, 10, true, now(), NULL, now(), now(), NULL, NULL, NULL
            FROM generate_series(1, %s) AS g
            """,
            [sender.pk, mails],
        )
        cursor.execute(
            """
            INSERT INTO mail_entry (mail_id, owner_id, role, box, folder_id, box_before_trash,
                read_at, starred, recalled_at, purged_at, created_at)
            SELECT m.id, (%s::bigint[])[1 + ((m.id * 7 + k) %% %s)], 'to', 'inbox', NULL, '',
                NULL, false, NULL, NULL, now()
            FROM mail_mail m CROSS JOIN generate_series(0, 9) AS k
            WHERE m.sender_id = %s
            """,
            [ids, len(ids), sender.pk],
        )
        cursor.execute("ANALYZE mail_mail; ANALYZE mail_entry;")
    return ids


def _p50(client, path: str, **params) -> float:
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        response = client.get(path, params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    return statistics.median(samples)


def test_mail_bench(org):
    unit = make_unit("基准测试单位", "bureau", org.city, code="BENCH-MAIL")
    sender = make_user("mbsender", unit, Role.STAFF)
    started = time.perf_counter()
    ids = _seed(unit, sender)
    seeded = time.perf_counter() - started
    from api.accounts.models import User

    reader = User.objects.get(pk=ids[0])
    client = client_for(reader)
    trivial = _p50(client, "/api/v1/me/")
    inbox = _p50(client, "/api/v1/mail/messages/", page_size=20)
    search = _p50(client, "/api/v1/mail/messages/", q="防汛", page_size=20)
    settings.GOVDESK_MAIL_INLINE_FANOUT = 100_000  # the 1,000 entries in the request itself
    addresses = [f"user:{pk}" for pk in ids[:1000]]
    sender_client = client_for(sender)
    started = time.perf_counter()
    response = sender_client.post(
        "/api/v1/mail/send/",
        {"subject": "千人通知", "body": "请周知。", "to": addresses},
        format="json",
    )
    send_seconds = time.perf_counter() - started
    assert response.status_code == 201, response.content[:300]
    assert response.json()["recipient_count"] == min(1000, len(ids))
    result = {
        "deliveries": DELIVERIES,
        "people": PEOPLE,
        "seed_seconds": round(seeded, 1),
        "p50_ms": {"me": trivial * 1000, "inbox": inbox * 1000, "search": search * 1000},
        "inbox_ratio": inbox / trivial,
        "search_ratio": search / trivial,
        "send_1000_seconds": send_seconds,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(
        f"\nmail bench: {DELIVERIES} deliveries; p50 me {trivial * 1000:.1f} ms, inbox "
        f"{inbox * 1000:.1f} ms ({result['inbox_ratio']:.2f}×, target ≤ 3×), search "
        f"{search * 1000:.1f} ms ({result['search_ratio']:.2f}×, target ≤ 5×); send to 1,000 "
        f"committed in {send_seconds:.3f} s (target < 1 s)"
    )
