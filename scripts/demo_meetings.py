#!/usr/bin/env python3
"""Video meetings against a running demo, over real HTTP. Docs: docs/meetings.md#the-demo.

Start the demo (``GOVDESK_PORT=8108 make demo``; it starts Janus when Debian's ``janus``
is installed) and run, from the repository root::

    GOVDESK_URL=http://127.0.0.1:8108 .venv/bin/python scripts/demo_meetings.py

The office director schedules a meeting starting now with leader1 and leader2
(leader3 is not invited); both are notified. leader2 signs in on site with the code
the director reads out. leader1 asks to join and enters the VideoRoom on Janus with the
token from the answer (as janus.js would: a session, a VideoRoom handle, a join);
leader3 is refused by the API (404) and by Janus itself (403 without a token). After
a few seconds leader1 leaves; the director ends the meeting (Janus destroys the room,
leader1's token no longer opens a session); the attendance record lists who joined
and for how long (from Janus's event handler) and who signed in on site; the minutes
are drafted as a 纪要 document linked to the meeting. Exits non-zero on a surprise.

Standard library only. Environment: GOVDESK_URL (default http://127.0.0.1:8000),
GOVDESK_DEMO_PASSWORD (default GovDesk@2026). ``--stay`` sets leader1's seconds in the
room (default 5).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

BASE = os.environ.get("GOVDESK_URL", "http://127.0.0.1:8000").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"null")
        except ValueError:
            return exc.code, raw.decode("utf-8", "replace")


class Person:
    def __init__(self, username: str) -> None:
        status, body = call(
            "POST", f"{BASE}/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        check(status == 200, f"{username} cannot log in: {status} {body}")
        self.username = username
        self.id = body["user"]["id"]
        self.name = body["user"]["display_name"]
        self.headers = {"Authorization": f"Bearer {body['access']}"}

    def get(self, path: str) -> Any:
        status, body = call("GET", BASE + path, headers=self.headers)
        check(status == 200, f"GET {path} as {self.username}: {status} {body}")
        return body

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {**self.headers, "Idempotency-Key": f"demo-{uuid.uuid4()}"}
        return call("POST", BASE + path, body if body is not None else {}, headers)


def janus(url: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = call("POST", url, {**body, "transaction": secrets.token_hex(6)})
    check(status == 200 and isinstance(answer, dict), f"Janus {url}: {status} {answer}")
    return answer


def enter_room(ticket: dict[str, Any]) -> tuple[str, str]:
    """Enter the VideoRoom the way janus.js does, over Janus's HTTP transport."""
    api = next(u for u in ticket["server"] if u.startswith("http"))
    token = ticket["token"]
    created = janus(api, {"janus": "create", "token": token})
    check(created.get("janus") == "success", f"Janus refused leader1's token: {created}")
    session = f"{api}/{created['data']['id']}"
    handle = janus(session, {"janus": "attach", "plugin": "janus.plugin.videoroom", "token": token})
    body = {"request": "join", "ptype": "publisher", "room": ticket["room"], "pin": ticket["pin"],
            "token": token, "display": ticket["display"]}  # fmt: skip
    janus(f"{session}/{handle['data']['id']}", {"janus": "message", "token": token, "body": body})
    _status, events = call("GET", f"{session}?maxev=1&token={token}")
    joined = events[0] if isinstance(events, list) else events
    data = (joined.get("plugindata") or {}).get("data") or {}
    check(data.get("videoroom") == "joined", f"leader1 did not enter the room: {joined}")
    return session, token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stay", type=int, default=5, help="leader1's seconds in the room")
    args = parser.parse_args(argv)
    try:
        director, leader1, leader2, leader3 = (
            Person(u) for u in ("director", "leader1", "leader2", "leader3")
        )
        now = datetime.now(UTC)
        print("1. The director schedules a video meeting with leader1 and leader2")
        status, meeting = director.post(
            "/api/v1/meetings/",
            {
                "title": f"防汛工作视频调度会 {now:%H:%M:%S}",
                "starts_at": (now + timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
                "place": "市政府三楼第一会议室",
                "agenda": "一、通报汛情\n二、部署防汛工作",
                "user_ids": [leader1.id, leader2.id],
            },
        )
        check(status == 201, f"schedule: {status} {meeting}")
        mid = meeting["id"]
        say(f"meeting {mid}: {meeting['title']} (sign-in code {meeting['signin_code']})")

        print("2. Notices (the notify ladder: in-app now, push/SMS later if unread)")
        for person in (leader1, leader2):
            titles = [n["title"] for n in person.get("/api/v1/notifications/")["results"]]
            check(any(meeting["title"] in t for t in titles), f"{person.username} got no notice")
            say(f"{person.name} ({person.username}): 会议通知 received")

        print("3. leader2 signs in on site with the code")
        status, row = leader2.post(
            f"/api/v1/meetings/{mid}/signin/", {"code": meeting["signin_code"]}
        )
        check(status == 200 and row["signin_method"] == "code", f"sign-in: {status} {row}")
        say(f"{leader2.name}: signed in at {row['signed_in_at']}")

        print("4. leader1 joins the video room; leader3 (not invited) is refused")
        status, ticket = leader1.post(f"/api/v1/meetings/{mid}/join/")
        if status == 503:
            raise Surprise(f"video is not available: {ticket['error']['message']}")
        check(status == 200, f"join: {status} {ticket}")
        tail = ticket["token"][-6:]
        say(f"join answer: server {ticket['server']}, room {ticket['room']}, token …{tail}")
        session, token = enter_room(ticket)
        say(f"{leader1.name} is in the room (Janus session {session.rsplit('/', 1)[1]})")
        status, _ = leader3.post(f"/api/v1/meetings/{mid}/join/")
        check(status == 404, f"leader3 join: {status}")
        api = next(u for u in ticket["server"] if u.startswith("http"))
        refused = janus(api, {"janus": "create"})
        check(
            refused.get("error", {}).get("code") == 403,
            f"Janus let a token-less client in: {refused}",
        )
        say("leader3: API 404; Janus without a token: 403 " + refused["error"]["reason"])
        time.sleep(args.stay)  # leader1 stays in the meeting for a while
        janus(session, {"janus": "destroy", "token": token})
        say(f"{leader1.name} left after ~{args.stay} s")

        print("5. The director ends the meeting")
        status, ended = director.post(f"/api/v1/meetings/{mid}/end/")
        check(status == 200 and ended["state"] == "ended", f"end: {status} {ended}")
        after = janus(api, {"janus": "create", "token": token})
        check(
            after.get("error", {}).get("code") == 403, f"token still valid after the end: {after}"
        )
        say("ended; the room is destroyed and leader1's token no longer opens a Janus session")

        print("6. Attendance record")
        deadline = time.monotonic() + 15
        while True:
            rows = director.get(f"/api/v1/meetings/{mid}/attendance/")["rows"]
            mine = next(r for r in rows if r["user_id"] == leader1.id)
            if mine["stays"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # Janus's event handler posts asynchronously
        for r in rows:
            how = {"room": "入会签到", "code": "现场签到", "": "未签到"}[r["signin_method"]]
            seconds, stays = r["seconds_in_room"], r["stays"]
            say(f"{r['display_name']:<4} {how:<5} in the room {seconds:>3} s, stays {stays}")
        check(mine["stays"] >= 1 and mine["seconds_in_room"] >= 1, f"leader1 not recorded: {mine}")
        check(
            next(r for r in rows if r["user_id"] == leader2.id)["signin_method"] == "code",
            "leader2",
        )

        print("7. Minutes: a 纪要 draft linked to the meeting")
        status, minutes = director.post(f"/api/v1/meetings/{mid}/minutes/")
        check(status == 200 and minutes["doc_type"] == "minutes", f"minutes: {status} {minutes}")
        document = director.get(f"/api/v1/documents/{minutes['document_id']}/")
        say(f"document {document['id']}: {document['title']} ({minutes['status']}, 纪要)")
        for paragraph in document["body"][:4]:
            say("  " + paragraph["text"])
    except Surprise as exc:
        print(f"SURPRISE: {exc}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
