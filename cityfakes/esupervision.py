"""Fake of the online-approval / e-supervision system (网上审批与电子监察系统).

Docs: docs/integrations.md#e-supervision. Plain Python (never imports api). The
contract this fake serves, which a real system's adapter must speak:

* **Event** (JSON object), one per stage of a service item (办件)::

    {"event_id": "EV-000001", "item_id": "2026000001", "service_name": "食品经营许可",
     "unit_code": "XC-SJ", "stage": "accept", "occurred_at": "2026-11-02T09:30:00+08:00",
     "limit_days": 20}

  ``stage`` is one of accept (受理), handle (承办), review (审核), approve (批准),
  complete (办结); ``occurred_at`` is ISO 8601 with its offset; ``limit_days`` is the
  legal time limit in working days; ``event_id`` is unique per event (a resend keeps
  it).
* **Webhook** (the system pushes): ``POST <GovDesk>/api/v1/integrations/esupervision/events/``
  with body ``{"events": [...]}`` (or one event), signed with the shared secret
  (headers from ``cityfakes.signing.sign``). ``EventSource.push`` does this.
* **List** (GovDesk pulls): ``GET /events?after=<cursor>&limit=<n>`` →
  ``{"events": [...], "cursor": "<cursor of the last event>", "more": true|false}``;
  the cursor is opaque to the client (here: the event's sequence number); an empty
  ``after`` starts at the beginning. GovDesk signs the request like a webhook (an empty
  body); the fake answers only signed requests when it has a secret.

``generate_scenario`` makes realistic items and ``deliveries`` the order a flaky
system sends their events in (duplicates, out of order, late), for the demo and tests.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cityfakes.server import FakeContext, Reply, Request
from cityfakes.signing import sign, verify

STAGES = ("accept", "handle", "review", "approve", "complete")
SHANGHAI = timezone(timedelta(hours=8))
SERVICES = (
    ("食品经营许可", 20),
    ("建设工程规划许可证核发", 20),
    ("企业投资项目备案", 5),
    ("药品零售企业许可", 15),
    ("道路运输经营许可", 20),
    ("公共场所卫生许可", 10),
    ("民办学校设立审批", 30),
    ("排水许可证核发", 10),
    ("户外广告设置审批", 7),
    ("建筑工程施工许可证核发", 7),
)
MAX_PAGE = 500
# The demo's units (api/demo/city.py) whose items the demo fake holds.
DEMO_UNIT_CODES = ("XC-SJ", "XC-ZR", "XC-WJ", "XC-GA", "XC-YC-OFF")
DEMO_ITEMS = 24


@dataclass
class ScenarioItem:
    item_id: str
    service_name: str
    unit_code: str
    limit_days: int
    # stage → occurred_at, for the stages this item has reached (in stage order).
    times: dict[str, datetime] = field(default_factory=dict)

    def events(self, first_number: int) -> list[dict[str, Any]]:
        return [
            {
                "event_id": f"EV-{first_number + index:06d}",
                "item_id": self.item_id,
                "service_name": self.service_name,
                "unit_code": self.unit_code,
                "stage": stage,
                "occurred_at": moment.isoformat(),
                "limit_days": self.limit_days,
            }
            for index, (stage, moment) in enumerate(self.times.items())
        ]


@dataclass
class Scenario:
    items: list[ScenarioItem]
    events: list[dict[str, Any]]  # every distinct event, in the order they happened


def generate_scenario(
    unit_codes: Sequence[str],
    *,
    items: int,
    start: datetime,
    seed: int = 1,
    open_share: float = 0.2,
) -> Scenario:
    """``items`` service items accepted from ``start`` on (09:00–17:00 Shanghai, over
    about a quarter), spread over ``unit_codes``; each stage takes a random share of
    the limit, so some finish early, some near the limit, some late; ``open_share`` of
    them stop before completion (still open)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    result = []
    for number in range(items):
        service, limit = SERVICES[rng.randrange(len(SERVICES))]
        accepted = start.astimezone(SHANGHAI) + timedelta(
            days=rng.randrange(90), hours=rng.randrange(8), minutes=rng.randrange(60)
        )
        accepted = accepted.replace(hour=9 + accepted.hour % 8, second=0, microsecond=0)
        # The whole item takes 0.2–2.2 × its limit in calendar time (weekends included,
        # so somewhat less in working time).
        total = timedelta(days=limit * rng.uniform(0.2, 2.2))
        shares = sorted(rng.random() for _ in range(3))
        cuts = [0.0, *shares, 1.0]
        reached = len(STAGES) if rng.random() >= open_share else rng.randrange(1, len(STAGES))
        times = {
            stage: (accepted + total * cuts[index]).replace(microsecond=0)
            for index, stage in enumerate(STAGES[:reached])
        }
        result.append(
            ScenarioItem(
                item_id=f"{start.year}{number + 1:06d}",  # 办件编号: digits
                service_name=service,
                unit_code=unit_codes[number % len(unit_codes)],
                limit_days=limit,
                times=times,
            )
        )
    events: list[dict[str, Any]] = []
    for item in result:
        events.extend(item.events(len(events) + 1))
    events.sort(key=lambda e: (e["occurred_at"], e["event_id"]))
    return Scenario(result, events)


def deliveries(
    events: Sequence[dict[str, Any]],
    *,
    total: int,
    seed: int = 2,
    late_share: float = 0.05,
    shuffle_window: int = 20,
) -> list[dict[str, Any]]:
    """The order a flaky system sends ``events`` in, ``total`` sends in all: mostly in
    time order but shuffled within windows (out of order), ``late_share`` held back to
    the very end (late), and the rest of ``total`` made up of resends of random events
    (duplicates, same event id)."""
    if total < len(events):
        raise ValueError("total must cover every event")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    order = list(events)
    late = [order.pop(rng.randrange(len(order))) for _ in range(int(len(order) * late_share))]
    shuffled: list[dict[str, Any]] = []
    for first in range(0, len(order), shuffle_window):
        window = order[first : first + shuffle_window]
        rng.shuffle(window)
        shuffled.extend(window)
    sends = shuffled + late
    for _ in range(total - len(events)):
        sends.insert(rng.randrange(len(sends) + 1), dict(rng.choice(events)))
    return sends


class EventSource:
    """The fake system: its event log (served by ``GET /events``) and its pushes."""

    def __init__(self, events: Sequence[dict[str, Any]] = (), *, secret: str = "") -> None:
        self._events: list[dict[str, Any]] = list(events)
        self.secret = secret
        self._lock = threading.Lock()
        self.fail_next = 0  # answer 503 this many times (a system that is down)

    def add(self, events: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self._events.extend(events)

    def page(self, after: str, limit: int) -> dict[str, Any]:
        start = int(after) if after else 0
        with self._lock:
            chunk = self._events[start : start + limit]
            more = start + len(chunk) < len(self._events)
        return {"events": chunk, "cursor": str(start + len(chunk)), "more": more}

    def __call__(self, req: Request) -> Reply:
        """The fake's HTTP side (a cityfakes handler): ``GET /events``. With a secret,
        only requests GovDesk signed are answered (401 otherwise)."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503, {"error": "unavailable"}
        if req.method != "GET" or req.path.rstrip("/") != "/events":
            return 404, {"error": "not found"}
        if self.secret and verify(self.secret, req.body, req.headers):
            return 401, {"error": "signature required"}
        after = req.query.get("after", "")
        limit_text = req.query.get("limit", "100")
        if (after and not after.isdigit()) or not limit_text.isdigit():
            return 400, {"error": "after and limit are whole numbers"}
        limit = min(max(int(limit_text), 1), MAX_PAGE)
        return 200, self.page(after, limit)

    @staticmethod
    def push(
        url: str,
        secret: str,
        events: Sequence[dict[str, Any]],
        *,
        timestamp: int | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, Any]:
        """POST ``{"events": events}`` to GovDesk's webhook, signed; (status, JSON)."""
        import time

        body = json.dumps({"events": list(events)}, ensure_ascii=False).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": "application/json", **sign(secret, body, stamp)}
        if not url.startswith(("http://", "https://")):
            raise ValueError("GovDesk's webhook URL must be http(s)")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def make(context: FakeContext) -> EventSource:
    """``python -m cityfakes serve``'s factory: the demo's approval system, holding
    ``DEMO_ITEMS`` generated items of the demo units (accepted over the last ~4 months)
    for GovDesk to pull."""
    codes = context.options.get("unit_codes", ",".join(DEMO_UNIT_CODES)).split(",")
    start = datetime.now(SHANGHAI) - timedelta(days=120)
    scenario = generate_scenario(codes, items=DEMO_ITEMS, start=start, seed=5)
    events = [
        {**event, "event_id": f"模拟{event['event_id']}", "item_id": f"模拟{event['item_id']}"}
        for event in scenario.events
    ]
    return EventSource(events, secret=context.secret)
