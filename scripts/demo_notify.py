#!/usr/bin/env python3
"""The notifications check against a running demo, over real HTTP (stdlib only).

Docs: docs/notifications.md#the-demo-check and docs/demo.md. Start the demo
(``make demo``) and run, from the repository root::

    GOVDESK_URL=http://127.0.0.1:8000 .venv/bin/python scripts/demo_notify.py

1. leader1 signs in, registers an FCM device token (``POST /api/v1/me/devices/push/``)
   and opens the live stream with a single-use ticket (``?ticket=``, as a browser's
   EventSource does).
2. The clerk drafts an urgent notice with leader1 countersigning (as
   scripts/demo_flow.py does) and the director approves it: a task opens for leader1.
3. It prints the time from the approval to the SSE event (must be under a second),
   the same notification in ``GET /api/v1/notifications/``, and the push the fake FCM
   received (``GET <fakes>/_received``).
4. The SMS rung: the notification stays unread; the launcher sets
   ``GOVDESK_NOTIFY_SMS_AFTER_MINUTES`` to one minute (beat runs the ladder every
   30 s), so the SMS reaches the fake SMS centre over SMPP (or the fake Aliyun
   gateway) 60-90 s later. At night (quiet
   hours, ``GOVDESK_NOTIFY_QUIET_HOURS``, 22:00-07:00 by default) it must *not* arrive:
   the check waits the same time and shows that nothing came. Quiet hours on a
   controllable clock are shown by tests/api/notify (the ladder tests).
   ``--no-sms`` skips this step; leader1 needs a mobile number for SMS, so the city
   IT admin (``admin``, with its demo TOTP code) gives the demo account one when it
   has none.

Environment: GOVDESK_URL (default http://127.0.0.1:8000), GOVDESK_DEMO_PASSWORD
(default GovDesk@2026), GOVDESK_FAKES_URL (default: read from
``$GOVDESK_VAR_DIR/fakes/credentials.json``, written by the launcher). Exits non-zero
on the first surprise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import queue
import secrets
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
BASE = os.environ.get("GOVDESK_URL", "http://127.0.0.1:8000").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
DEMO_TOTP_SECRET = "GOVDESKDEMOTOTPSECRETONLYFORDEMO"  # docs/demo.md (demo only)
TEMPLATE = "市政府办公室发文"
# The demo sends SMS over SMPP to the fake SMS centre ("smsc"); "aliyun_sms" when a
# launcher points SMS at the fake Aliyun gateway instead.
SMS_SERVICES = ("smsc", "aliyun_sms")


def _sms_is_about(line: dict, title: str) -> bool:
    if line["service"] == "smsc":
        return title in line.get("text", "")
    return line.get("params", {}).get("title") == title


DEMO_MOBILE = "13800138001"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def fakes_url() -> str:
    if os.environ.get("GOVDESK_FAKES_URL"):
        return os.environ["GOVDESK_FAKES_URL"].rstrip("/") + "/"
    var_dir = Path(os.environ.get("GOVDESK_VAR_DIR") or REPO / "var")
    try:
        cred = json.loads((var_dir / "fakes" / "credentials.json").read_text("utf-8"))
    except OSError:
        raise Surprise(
            f"no {var_dir}/fakes/credentials.json: is `make demo` running? "
            "(or set GOVDESK_FAKES_URL)"
        ) from None
    return str(cred["urls"]["received"]).removesuffix("_received")


def totp_now(secret: str, step: int = 0) -> str:
    """RFC 6238 TOTP (SHA-1, 30 s, 6 digits) in the standard library."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int(time.time() // 30) + step
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    sent = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode("utf-8", "replace")


class Person:
    def __init__(self, username: str, otp: bool = False) -> None:
        self.username = username
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        for attempt in range(2):
            if otp:
                body["otp"] = totp_now(DEMO_TOTP_SECRET, step=attempt)
            status, answer = http("POST", f"{BASE}/api/v1/auth/token/", body)
            if status == 200:
                break
        check(status == 200, f"login {username}: {status} {answer}")
        self.token = answer["access"]
        self.id = self.get("/api/v1/me/")["id"]

    def _headers(self, idempotent: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if idempotent:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return headers

    def get(self, path: str) -> Any:
        status, answer = http("GET", f"{BASE}{path}", headers=self._headers())
        check(status == 200, f"GET {path} as {self.username}: {status} {answer}")
        return answer

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        status, answer = http("POST", f"{BASE}{path}", body, self._headers(idempotent=True))
        check(status == expect, f"POST {path} as {self.username}: {status} {answer}")
        return answer

    def task_for(self, document_id: int) -> dict:
        for item in self.get("/api/v1/tasks/?state=todo&page_size=100")["results"]:
            if item["document"]["id"] == document_id:
                return item
        raise Surprise(f"{self.username} has no task for document {document_id}")


class LiveStream:
    """leader1's EventSource: a thread reads the SSE stream into a queue."""

    def __init__(self, person: Person) -> None:
        ticket = person.post("/api/v1/notifications/stream-ticket/", None, expect=201)["ticket"]
        url = f"{BASE}/api/v1/notifications/stream/?" + urllib.parse.urlencode({"ticket": ticket})
        request = urllib.request.Request(url, headers={"Accept": "text/event-stream"})
        self.response = urllib.request.urlopen(request, timeout=120)
        check(self.response.status == 200, f"stream: {self.response.status}")
        ctype = self.response.headers.get("Content-Type", "")
        check(ctype.startswith("text/event-stream"), f"stream content type {ctype}")
        self.events: queue.Queue[tuple[float, dict[str, str]]] = queue.Queue()
        self.connected = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        check(self.connected.wait(10), "the stream sent nothing within 10 s")

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith(":"):
                    self.connected.set()
                elif line == "":
                    if "data" in fields:
                        self.events.put((time.monotonic(), fields))
                    fields = {}
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except OSError:
            pass

    def next(self, timeout: float) -> tuple[float, dict[str, str]] | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None


def received(fakes: str, since: int, service: str | None) -> list[dict]:
    only = f"&service={service}" if service else ""
    status, answer = http("GET", f"{fakes}_received?since={since}{only}")
    check(status == 200, f"fakes /_received: {status} {answer}")
    return list(answer["received"])


def last_seq(fakes: str) -> int:
    status, answer = http("GET", f"{fakes}_received")
    check(status == 200, f"fakes /_received: {status} {answer}")
    lines = answer["received"]
    return int(lines[-1]["seq"]) if lines else 0


def draft_and_submit(clerk: Person, leader1: Person, mayor: Person) -> int:
    document = clerk.post(
        "/api/v1/documents/",
        {
            "direction": "outgoing",
            "title": "关于做好寒潮天气防范工作的紧急通知",
            "doc_type": "notice",
            "urgency": "urgent",
            "body": [
                {"level": 1, "text": "切实做好寒潮天气防范应对工作"},
            ],
            "main_recipients": "各区县人民政府，市政府各部门",
        },
        expect=201,
    )
    templates = clerk.get("/api/v1/workflow-templates/?direction=outgoing")
    rows = templates["results"] if isinstance(templates, dict) else templates
    template = next((t for t in rows if t["name"] == TEMPLATE), None)
    check(template is not None, f"template {TEMPLATE} not found (seed_demo?)")
    clerk.post(
        f"/api/v1/documents/{document['id']}/submit/",
        {
            "template_id": template["id"],
            "participants": {"countersigners": [leader1.id], "sign_off_by": mayor.id},
        },
        expect=201,
    )
    return int(document["id"])


def ensure_mobile(leader1: Person) -> None:
    admin = Person("admin", otp=True)
    member = admin.get(f"/api/v1/users/{leader1.id}/")
    if member.get("mobile"):
        say(f"leader1's mobile number for the SMS rung: {member['mobile']}")
        return
    status, answer = http(
        "PATCH",
        f"{BASE}/api/v1/users/{leader1.id}/",
        {"mobile": DEMO_MOBILE},
        admin._headers(idempotent=True),
    )
    check(status == 200, f"set leader1's mobile: {status} {answer}")
    say(f"admin gave leader1 the demo mobile number {DEMO_MOBILE} (the SMS rung needs one)")


def in_quiet_hours(window: str, now: datetime) -> bool:
    if not window:
        return False
    start_text, end_text = window.split("-")
    local = now.astimezone(SHANGHAI).time()
    start = datetime.strptime(start_text, "%H:%M").time()
    end = datetime.strptime(end_text, "%H:%M").time()
    return start <= local < end if start < end else (local >= start or local < end)


def main() -> int:
    parser = argparse.ArgumentParser(description="The demo check of the notifications.")
    parser.add_argument("--no-sms", action="store_true", help="skip the SMS rung")
    parser.add_argument(
        "--sms-wait", type=float, default=150.0, help="seconds to wait for the SMS rung"
    )
    args = parser.parse_args()
    try:
        fakes = fakes_url()
        print("1. leader1: a phone with an FCM token, and the live stream open")
        leader1 = Person("leader1")
        clerk, director, mayor = Person("clerk"), Person("director"), Person("mayor")
        token = f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(105)}"
        leader1.post(
            "/api/v1/me/devices/push/",
            {"kind": "fcm", "token": token, "label": "leader1 的手机（演示）"},
            expect=201,
        )
        say(f"registered FCM token {token[:20]}…")
        if not args.no_sms:
            ensure_mobile(leader1)
        stream = LiveStream(leader1)
        say("live stream open (EventSource-style, ?ticket=)")
        seq = last_seq(fakes)

        print("2. The director approves: a task opens for leader1")
        document_id = draft_and_submit(clerk, leader1, mayor)
        say(f"clerk drafted and submitted document {document_id} (加急)")
        task = director.task_for(document_id)
        sent_at, sent_wall = time.monotonic(), time.time()
        director.post(f"/api/v1/tasks/{task['id']}/approve/")
        answered_at = time.monotonic()
        say(f"director approved (the request took {answered_at - sent_at:.3f} s)")

        print("3. In leader1's list, on the live channel, on the fake FCM")
        got = stream.next(timeout=5)
        check(got is not None, "no SSE event within 5 s of the approval")
        at, fields = got
        event = json.loads(fields["data"])
        check(fields.get("event") == "notification", f"event type {fields.get('event')}")
        latency = at - sent_at
        say(
            f"SSE event id {fields.get('id')} '{event['title']}' {latency * 1000:.0f} ms after "
            f"the approval was sent ({(at - answered_at) * 1000:.0f} ms after its answer)"
        )
        check(latency < 1.0, f"the live channel took {latency:.3f} s (must be < 1 s)")
        listed = leader1.get("/api/v1/notifications/")["results"]
        mine = next((n for n in listed if str(n["id"]) == fields.get("id")), None)
        check(mine is not None, "the notification is not in GET /api/v1/notifications/")
        check(mine == event, f"list item and event differ: {mine} vs {event}")
        say(f"GET /api/v1/notifications/: {mine['kind']} '{mine['title']}' unread")
        deadline = time.monotonic() + 20
        pushes: list[dict] = []
        while time.monotonic() < deadline and not pushes:
            pushes = [p for p in received(fakes, seq, "fcm") if p["recipient"] == token]
            if not pushes:
                time.sleep(0.2)
        check(bool(pushes), "no push reached the fake FCM within 20 s")
        push = pushes[0]
        say(
            f"fake FCM received '{push['title']}' for the token, task_id="
            f"{push['data'].get('task_id')}, {push['received_at'] - sent_wall:.2f} s after "
            "the approval"
        )

        if not args.no_sms:
            print("4. Left unread: the SMS rung")
            prefs = leader1.get("/api/v1/me/notification-preferences/")
            window = prefs.get("quiet_hours", "")
            now = datetime.now(SHANGHAI)
            quiet_until_end = in_quiet_hours(window, now) and in_quiet_hours(
                window, now + timedelta(seconds=args.sms_wait)
            )
            deadline = time.monotonic() + args.sms_wait
            sms: list[dict] = []
            # Only this approval's SMS: leader1 may hold older unread reminders (the
            # launcher's demo task) whose SMS rung comes due meanwhile.
            while time.monotonic() < deadline and not sms:
                sms = [
                    line
                    for line in received(fakes, seq, None)
                    if line["service"] in SMS_SERVICES
                    and line["recipient"] == DEMO_MOBILE
                    and _sms_is_about(line, event["title"])
                ]
                if not sms:
                    time.sleep(2)
            if quiet_until_end:
                night = [x for x in received(fakes, seq, None) if x["service"] in SMS_SERVICES]
                check(not night, f"an SMS went out during quiet hours {window}: {night}")
                say(
                    f"it is {now:%H:%M} in Asia/Shanghai, inside quiet hours {window}: no SMS "
                    f"in {args.sms_wait:.0f} s — it waits for the morning (held, not dropped)"
                )
                say("run the demo with GOVDESK_NOTIFY_QUIET_HOURS=off to see it sent now")
            else:
                check(bool(sms), f"no SMS reached the fake within {args.sms_wait:.0f} s")
                line = sms[0]
                if line["service"] == "smsc":
                    say(
                        f"fake SMSC (SMPP) received for {line['recipient']}: {line['text']!r} "
                        f"in {line['parts']} part(s), "
                        f"{line['received_at'] - sent_wall:.0f} s after the approval"
                    )
                    # The SMSC's delivery receipt, stored by the launcher's `receipts`
                    # process, shows in the notification's trail.
                    deadline = time.monotonic() + 30
                    outcome = ""
                    while time.monotonic() < deadline and outcome != "delivered":
                        trail = leader1.get(f"/api/v1/notifications/{event['id']}/trail/")
                        sms_steps = [x for x in trail["steps"] if x["rung"] == "sms"]
                        outcome = sms_steps[0]["outcome"] if sms_steps else ""
                        if outcome != "delivered":
                            time.sleep(1)
                    check(outcome == "delivered", f"the trail's SMS step says {outcome!r}")
                    rungs = " → ".join(f"{x['rung']} {x['outcome']}" for x in trail["steps"])
                    say(f"GET /api/v1/notifications/{event['id']}/trail/: {rungs}")
                else:
                    say(
                        f"fake Aliyun SMS received for {line['recipient']}: template "
                        f"{line['template']} {line['params']} "
                        f"{line['received_at'] - sent_wall:.0f} s after the approval"
                    )
    except (Surprise, OSError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
