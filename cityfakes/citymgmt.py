"""Loopback fake of the digital city management system (数字城管): a case change feed.

Docs: docs/integrations.md#city-management. Contract: ``GET <base>/cases?cursor=&limit=``
(signed like every GovDesk pull: ``X-GovDesk-Timestamp`` and ``X-GovDesk-Signature`` over
the empty body) answers ``{"cases": [...], "next_cursor": "...", "has_more": bool}``:
the cases changed after ``cursor`` in the order they changed, each in its newest
version. The cursor is the fake's change sequence number, opaque to GovDesk. A case
changed again after a pull comes back in a later page with a higher ``version``.

Plain Python (never imports api). ``CityManagementFake`` keeps the cases and is the
handler (cityfakes/server.py); tests add and change cases through it (``put``);
``demo_cases`` is the demo's data, ``make`` the factory for ``python -m cityfakes``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from cityfakes.server import FakeContext, Reply, Request
from cityfakes.signing import verify

SHANGHAI = timezone(timedelta(hours=8))
MAX_LIMIT = 200
CATEGORIES = ("市容环境", "街面秩序", "宣传广告", "施工管理", "园林绿化", "市政公用设施")
DISTRICTS = ("渝城区", "高新区", "城北街道", "城南街道")
OPEN_STATES = ("reported", "registered", "dispatched", "handling", "verifying")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def demo_cases(now: datetime | None = None, count: int = 60) -> list[dict[str, Any]]:
    """``count`` cases over the last 30 days, deterministic: about half closed (some
    late), the rest open in the flow's states, some of them past their deadline."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    cases = []
    for i in range(count):
        reported = now - timedelta(days=(i * 7) % 30, hours=i % 9)
        deadline = reported + timedelta(days=1 + i % 5)
        closed = i % 2 == 0
        state = "closed" if closed else OPEN_STATES[i % len(OPEN_STATES)]
        closed_at = deadline + timedelta(hours=6) if closed and i % 6 == 0 else None
        if closed and closed_at is None:
            closed_at = reported + timedelta(hours=8 + i % 12)
        if closed_at is not None and closed_at > now:
            closed_at = now
        cases.append(
            {
                "id": f"CG2026{i + 1:06d}",
                "version": 1,
                "category": CATEGORIES[i % len(CATEGORIES)],
                "district": DISTRICTS[(i * 3) % len(DISTRICTS)],
                "state": state,
                "reported_at": _iso(reported),
                "deadline_at": _iso(deadline),
                "closed_at": _iso(closed_at),
                "updated_at": _iso(closed_at or reported),
            }
        )
    return cases


class CityManagementFake:
    """The case store and the HTTP contract. ``secret`` empty: signatures not checked."""

    def __init__(self, secret: str = "", cases: list[dict[str, Any]] | None = None) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._seq = 0
        self._cases: dict[str, tuple[int, dict[str, Any]]] = {}  # id → (change seq, case)
        self.requests = 0
        for case in cases or []:
            self.put(case)

    def put(self, case: dict[str, Any]) -> dict[str, Any]:
        """Add a case or change one: the version goes up by one and it is a new change."""
        with self._lock:
            self._seq += 1
            old = self._cases.get(case["id"])
            stored = {**(old[1] if old else {}), **case}
            stored["version"] = old[1]["version"] + 1 if old else case.get("version", 1)
            self._cases[case["id"]] = (self._seq, stored)
            return dict(stored)

    def page(self, cursor: str, limit: int) -> dict[str, Any]:
        after = int(cursor) if cursor.isdigit() else 0
        with self._lock:
            changed = sorted((seq, case) for seq, case in self._cases.values() if seq > after)
        chunk = changed[:limit]
        return {
            "cases": [dict(case) for _, case in chunk],
            "next_cursor": str(chunk[-1][0]) if chunk else str(after),
            "has_more": len(changed) > limit,
        }

    def __call__(self, req: Request) -> Reply:
        """Answer one request; ``req.path`` is below the fake's prefix (``/cases``)."""
        if req.path.rstrip("/") != "/cases":
            return 404, {"error": "not_found"}
        if req.method != "GET":
            return 405, {"error": "method_not_allowed"}
        if self.secret and verify(self.secret, req.body, req.headers):
            return 401, {"error": "bad_signature"}
        raw_limit = req.query.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return 400, {"error": "bad_limit"}
        self.requests += 1
        return 200, self.page(req.query.get("cursor", ""), int(raw_limit))


def make(context: FakeContext) -> CityManagementFake:
    """The factory ``python -m cityfakes serve`` calls: the demo's cases, checked with
    the connector's secret."""
    return CityManagementFake(context.secret, demo_cases())
