"""The portal and search benchmark: `make bench` (never part of `make test`).

Docs: docs/performance.md#portal-and-search. Needs PostgreSQL (DATABASE_URL; skipped
otherwise) — the database named there is seeded for real and reused by later runs: use a
dedicated one.

1. Seeds the reference city (8,165 users) and GOVDESK_BENCH_POSTS (200k) published posts
   with their audience keys and must-read receipts by COPY (tests/bench/seed_posts.py).
2. Starts gunicorn on loopback as the approval benchmark does (tests/bench/test_approval_api.py).
3. Measures p50/p95 at one client of (a) GET /api/v1/me/ (the trivial endpoint),
   (b) GET /api/v1/portal/ for the demo ``director`` (a leader: every block including
   the dashboard) and for a scale user of a township, (c) GET /api/v1/search/?q= for
   two-character words (安全, 防汛) and a two-word query.
4. Prints the ratios b/a (target ≤ 3) and c/a (target ≤ 5) at p50 and the portal's
   gzipped size (target ≤ 6 KB), and writes var/bench/portal.json.

Nothing asserts on wall time; the test asserts every request succeeded.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

from tests.bench.test_approval_api import _measure, server  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench" / "portal.json"
POSTS = int(os.environ.get("GOVDESK_BENCH_POSTS", "200000"))
REQUESTS = int(os.environ.get("GOVDESK_BENCH_REQUESTS", "200"))
QUERIES = ("安全", "防汛", "防汛 值班")

pytestmark = pytest.mark.skipif(
    not settings.DATABASE_IS_POSTGRES,
    reason="the portal benchmark needs PostgreSQL: set DATABASE_URL (a dedicated database)",
)


@pytest.fixture(scope="module")
def seeded(django_db_blocker):
    from tests.bench.seed_posts import seed

    with django_db_blocker.unblock():
        info = seed(posts=POSTS)
        from api.accounts.models import Unit, User
        from api.publishing.models import Post, ReadReceipt

        info.update(
            posts_total=Post.objects.count(),
            receipts_total=ReadReceipt.objects.count(),
            units=Unit.objects.count(),
            users=User.objects.count(),
        )
    return info


def _token(username: str) -> str:
    from api.accounts.models import User
    from api.accounts.tokens import issue_tokens, open_session

    user = User.objects.get(username=username)
    return issue_tokens(user, open_session(user, device_name="bench")).access


def test_portal_and_search_benchmark(seeded, server, django_db_blocker):  # noqa: F811
    from api.accounts.models import User

    with django_db_blocker.unblock():
        township = User.objects.filter(unit__kind="township", is_active=True).order_by("id").first()
        people = {"director": _token("director")}
        if township is not None:
            people["township"] = _token(township.username)

    def session(token: str) -> requests.Session:
        http = requests.Session()
        http.headers.update({"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
        return http

    warm = session(people["director"])
    for _ in range(16):
        warm.get(f"{server}/api/v1/me/", timeout=60)
        warm.get(f"{server}/api/v1/portal/", timeout=60)
        warm.get(f"{server}/api/v1/search/", params={"q": "安全"}, timeout=60)
    sizes = {}
    for who, token in people.items():
        answer = session(token).get(f"{server}/api/v1/portal/", timeout=60)
        assert answer.status_code == 200
        sizes[who] = int(answer.headers.get("Content-Length", len(answer.content)))
    hits = {
        q: len(warm.get(f"{server}/api/v1/search/", params={"q": q}, timeout=60).json()["results"])
        for q in QUERIES
    }

    def get(path: str, params: dict[str, str] | None = None):
        return lambda http, _i, _j: http.get(f"{server}{path}", params=params, timeout=60)

    runs: dict[str, dict[str, Any]] = {}
    tokens = [people["director"]]
    runs["a_me"] = _measure(1, REQUESTS, tokens, get("/api/v1/me/"))
    for who, token in people.items():
        runs[f"b_portal_{who}"] = _measure(1, REQUESTS, [token], get("/api/v1/portal/"))
    for q in QUERIES:
        runs[f"c_search_{q}"] = _measure(1, REQUESTS, tokens, get("/api/v1/search/", {"q": q}))
    base = runs["a_me"]["p50_ms"]
    ratios = {name: round(m["p50_ms"] / base, 2) for name, m in runs.items() if name != "a_me"}
    for name, m in runs.items():
        assert m["failed"] == 0, (name, m["failures"])
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": seeded,
        "portal_gzip_bytes": sizes,
        "search_hits_first_page": hits,
        "runs": runs,
        "ratios_p50": ratios,
        "targets": {"portal/me": 3.0, "search/me": 5.0, "portal_gzip_bytes": 6144},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print()
    print(
        f"scale: {seeded['units']} units, {seeded['users']:,} users, "
        f"{seeded['posts_total']:,} posts, {seeded['receipts_total']:,} receipts"
    )
    print(f"portal gzipped bytes: {sizes} (target ≤ 6144)")
    print(f"{'endpoint':24} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'×me p50':>8}")
    for name, m in runs.items():
        ratio = ratios.get(name, 1.0)
        print(f"{name:24} {m['requests']:5} {m['p50_ms']:8.1f} {m['p95_ms']:8.1f} {ratio:8.2f}")
    print("targets: portal ≤ 3× me, search ≤ 5× me at p50")
    print(f"written: {OUT.relative_to(ROOT)}")
