"""Loopback fake of the emergency command system (应急指挥): it pushes signed webhooks.

Docs: docs/integrations.md#emergency. The command system sends each version of an
emergency event to ``POST <GovDesk>/api/v1/integrations/emergency/events/`` as JSON
``{"event_id", "sequence", "type", "level", "place", "occurred_at", "summary",
"sent_at"}``, signed with the shared secret (cityfakes/signing.py). ``sequence`` is 1
for the first report and grows with every update (续报) of the same event.

``EmergencyCommandFake(webhook_url, secret)`` (also the handler of cityfakes/server.py;
``make`` is the factory for ``python -m cityfakes``): ``report(...)`` sends a new event,
``update(event_id, ...)`` its next version, ``resend(payload)`` sends a version again
(a duplicate) — each returns the HTTP status GovDesk answered. Over HTTP:
``POST /trigger`` sends a demo event (body optional: ``{"type", "level", "place",
"summary"}``), ``POST /events/<event id>/update`` its next version, ``GET /sent`` lists
what was sent and answered. Plain Python (never imports api).
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

from cityfakes.server import FakeContext, Reply, Request
from cityfakes.signing import sign

SHANGHAI = timezone(timedelta(hours=8))
DEMO_EVENT = {
    "type": "道路塌陷",
    "level": "III",
    "place": "新城区人民路与建设街交叉口",
    "summary": "人民路与建设街交叉口路面塌陷约 20 平方米，暂无人员伤亡，交警已封闭道路。",
}


def _now() -> str:
    return datetime.now(SHANGHAI).replace(microsecond=0).isoformat()


class EmergencyCommandFake:
    def __init__(self, webhook_url: str, secret: str, *, prefix: str = "YJ") -> None:
        self.webhook_url = webhook_url
        self.secret = secret
        self.prefix = prefix
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self.events: dict[str, dict[str, Any]] = {}  # event id → its newest version
        self.sent: list[dict[str, Any]] = []  # {"payload", "status"} in sending order

    def post(self, payload: dict[str, Any], *, secret: str | None = None) -> int:
        """Send one signed version; the HTTP status GovDesk answered (0: unreachable)."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **sign(secret or self.secret, body)}
        # GovDesk's own http(s) URL, given by the demo or a test (never user input).
        request = urllib.request.Request(self.webhook_url, data=body, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                status = int(response.status)
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self._lock:
            self.sent.append({"payload": payload, "status": status})
        return status

    def new_event(self, **fields: Any) -> dict[str, Any]:
        """A first report (sequence 1), not sent yet."""
        number = next(self._numbers)
        event = {
            "event_id": fields.pop("event_id", None)
            or f"{self.prefix}{datetime.now(SHANGHAI):%Y%m%d%H%M%S}{number:03d}",
            "sequence": 1,
            **DEMO_EVENT,
            "occurred_at": _now(),
            **fields,
            "sent_at": _now(),
        }
        with self._lock:
            self.events[event["event_id"]] = event
        return dict(event)

    def next_version(self, event_id: str, **changes: Any) -> dict[str, Any]:
        """The event's next version (sequence + 1) with ``changes``, not sent yet."""
        with self._lock:
            event = {**self.events[event_id], **changes}
            event["sequence"] = self.events[event_id]["sequence"] + 1
            event["sent_at"] = _now()
            self.events[event_id] = event
        return dict(event)

    def report(self, **fields: Any) -> tuple[dict[str, Any], int]:
        event = self.new_event(**fields)
        return event, self.post(event)

    def update(self, event_id: str, **changes: Any) -> tuple[dict[str, Any], int]:
        event = self.next_version(event_id, **changes)
        return event, self.post(event)

    def __call__(self, req: Request) -> Reply:
        """The fake's own small HTTP surface, for the demo and for people trying it."""
        route = req.path.rstrip("/")
        if route == "/sent" and req.method == "GET":
            with self._lock:
                return 200, {"sent": list(self.sent)}
        if req.method != "POST":
            return 405, {"error": "method_not_allowed"}
        try:
            given = json.loads(req.body) if req.body else {}
        except ValueError:
            return 400, {"error": "malformed_json"}
        if not isinstance(given, dict):
            return 400, {"error": "not_an_object"}
        allowed = {k: v for k, v in given.items() if k in ("type", "level", "place", "summary")}
        if route == "/trigger":
            event, status = self.report(**allowed)
            return 200, {"event": event, "govdesk_status": status}
        parts = route.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "events" and parts[2] == "update":
            if parts[1] not in self.events:
                return 404, {"error": "unknown_event"}
            event, status = self.update(parts[1], **allowed)
            return 200, {"event": event, "govdesk_status": status}
        return 404, {"error": "not_found"}


WEBHOOK_PATH = "/api/v1/integrations/emergency/events/"


def make(context: FakeContext) -> EmergencyCommandFake:
    """The factory ``python -m cityfakes serve`` calls: it pushes to GovDesk's webhook."""
    return EmergencyCommandFake(context.govdesk_url.rstrip("/") + WEBHOOK_PATH, context.secret)
