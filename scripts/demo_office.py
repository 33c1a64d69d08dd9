#!/usr/bin/env python3
"""Personal office and internal mail, end to end against a running demo, over HTTP.

Docs: docs/personal-office.md#demo and docs/mail.md#demo. Start the demo
(``GOVDESK_PORT=8106 make demo``) and run, from the repository root::

    GOVDESK_URL=http://127.0.0.1:8106 .venv/bin/python scripts/demo_office.py

leader1's secretary (secretary1) adds a weekly meeting (RRULE) to leader1's schedule;
leader2 sees leader1 busy at that time and not the title; the clerk mails everyone of
the office (a unit group) with an attachment; two recipients read it and the sender's
receipts show exactly those two; the sender recalls it from the rest; leader1's
iCalendar feed imports into ``icalendar`` with the meeting's RRULE intact. Standard
library HTTP only (plus ``icalendar`` to parse the feed). Exits non-zero on the first
surprise.

Environment: GOVDESK_URL (default http://127.0.0.1:8000), GOVDESK_DEMO_PASSWORD
(default GovDesk@2026).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from icalendar import Calendar

BASE = os.environ.get("GOVDESK_URL", "http://127.0.0.1:8000").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
CST = timezone(timedelta(hours=8))
RRULE = "FREQ=WEEKLY;BYDAY=TH;COUNT=8"


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def call(
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    key: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if key:
        request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, payload, headers = error.code, error.read(), dict(error.headers)
    if headers.get("Content-Type", "").startswith("application/json") and payload:
        return status, json.loads(payload), headers
    return status, payload, headers


class Person:
    def __init__(self, username: str) -> None:
        self.username = username
        status, body, _ = call(
            "POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        check(status == 200, f"login {username}: {status} {body}")
        self.token = body["access"]
        me = self.get("/api/v1/me/")
        self.id, self.unit_id, self.name = me["id"], me["unit"]["id"], me["display_name"]

    def get(self, path: str, **params: Any) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        status, body, _ = call("GET", path + query, token=self.token)
        check(status == 200, f"{self.username} GET {path}: {status} {body}")
        return body

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        status, answer, _ = call(
            "POST", path, body if body is not None else {}, self.token, key=uuid.uuid4().hex
        )
        check(status == expect, f"{self.username} POST {path}: {status} {answer}")
        return answer

    def upload(self, path: str, name: str, content: bytes) -> Any:
        boundary = uuid.uuid4().hex
        raw = (
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, answer, _ = call(
            "POST",
            path,
            token=self.token,
            raw=raw,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        check(status == 201, f"{self.username} upload: {status} {answer}")
        return answer


def say(text: str) -> None:
    print(text, flush=True)


def schedule() -> None:
    secretary, leader1, leader2 = Person("secretary1"), Person("leader1"), Person("leader2")
    day = datetime.now(CST).replace(hour=16, minute=0, second=0, microsecond=0)
    day += timedelta(days=(3 - day.weekday()) % 7 or 7)  # next Thursday 16:00
    event = secretary.post(
        "/api/v1/calendar/events/",
        {
            "owner": leader1.id,
            "title": "城市更新项目推进会",
            "place": "市政府第三会议室",
            "start": day.isoformat(),
            "end": (day + timedelta(hours=1)).isoformat(),
            "rrule": RRULE,
            "remind_minutes": 30,
        },
        expect=201,
    )
    check(
        event["owner"]["id"] == leader1.id and event["created_by"]["id"] == secretary.id,
        f"the event should be leader1's, added by the secretary: {event}",
    )
    say(
        f"1. {secretary.name}（秘书）在 {leader1.name} 的日程中添加：{event['title']} "
        f"{day:%m-%d %H:%M}（每周四，共 8 次，{RRULE}）"
    )
    window = {
        "user": leader1.id,
        "start": day.isoformat(),
        "end": (day + timedelta(hours=1)).isoformat(),
    }
    seen = leader2.get("/api/v1/calendar/events/", **window)
    check(seen["access"] == "busy", f"leader2 should see busy/free only: {seen['access']}")
    check(
        len(seen["results"]) >= 1 and all(i["busy"] and i["title"] == "" for i in seen["results"]),
        f"leader2 should see leader1 busy without titles: {seen['results']}",
    )
    check("城市更新" not in json.dumps(seen, ensure_ascii=False), "the title leaked to leader2")
    fb = leader2.get(
        "/api/v1/calendar/freebusy/",
        users=str(leader1.id),
        start=window["start"],
        end=window["end"],
    )
    check(fb[0]["visible"] and fb[0]["busy"], f"free/busy should show leader1 busy: {fb}")
    say(
        f"2. {leader2.name} 看 {leader1.name} 的日程：{day:%H:%M} 忙"
        f"（{len(seen['results'])} 项），看不到标题"
    )
    own = leader1.get("/api/v1/calendar/events/", **window)
    check(own["results"][0]["title"] == "城市更新项目推进会", "leader1 should see the title")
    feed = leader1.post("/api/v1/calendar/feed/", expect=201)
    path = urllib.parse.urlparse(feed["url"]).path
    status, ics, headers = call("GET", path)
    check(
        status == 200 and headers.get("Content-Type", "").startswith("text/calendar"),
        f"feed: {status}",
    )
    calendar = Calendar.from_ical(ics)
    matching = [v for v in calendar.walk("VEVENT") if str(v.get("uid")) == event["uid"]]
    check(len(matching) == 1, "the feed should hold the meeting once")
    check(str(matching[0]["summary"]) == "城市更新项目推进会", "the meeting's title changed")
    rrule = matching[0]["rrule"].to_ical().decode()
    check(
        sorted(rrule.split(";")) == sorted(RRULE.split(";")), f"RRULE changed in the feed: {rrule}"
    )
    say(
        f"3. {leader1.name} 的 iCalendar 订阅被 icalendar 解析："
        f"{len(calendar.walk('VEVENT'))} 个日程，"
        f"RRULE:{rrule}"
    )


def mail() -> None:
    clerk = Person("clerk")
    upload = clerk.upload(
        "/api/v1/mail/attachments/",
        "防汛值班表.txt",
        "防汛值班表：周一 周敏；周二 赵丽；周三 孙静。".encode(),
    )
    sent = clerk.post(
        "/api/v1/mail/send/",
        {
            "subject": "关于做好防汛值班的通知",
            "body": "各位同事：请按附件值班表做好防汛值班，保持电话畅通。",
            "to": [f"unit:{clerk.unit_id}:all"],
            "files": [upload["id"]],
        },
        expect=201,
    )
    receipts = clerk.get(f"/api/v1/mail/messages/{sent['id']}/receipts/")
    names = [r["recipient"]["display_name"] for r in receipts["results"]]
    check(sent["recipient_count"] >= 4, f"the office's people should all receive it: {names}")
    say(
        f"4. {clerk.name} 给办公室全体（{sent['addresses'][0]['label']}）发邮件并附 "
        f"{upload['name']}：{sent['recipient_count']} 人收到（{'、'.join(names)}）"
    )
    readers = [Person("director"), Person("secretary1")]
    for reader in readers:
        inbox = reader.get("/api/v1/mail/messages/", folder="inbox")["results"]
        copy = next(e for e in inbox if e["mail_id"] == sent["mail_id"])
        detail = reader.get(f"/api/v1/mail/messages/{copy['id']}/")
        check(
            detail["files"] and detail["files"][0]["name"] == "防汛值班表.txt", "attachment missing"
        )
        reader.post(f"/api/v1/mail/messages/{copy['id']}/read/")
    read = clerk.get(f"/api/v1/mail/messages/{sent['id']}/receipts/", read="true")
    read_ids = sorted(r["recipient"]["id"] for r in read["results"])
    check(
        read_ids == sorted(r.id for r in readers) and read["read"] == 2,
        f"the sender should see exactly the two readers: {read['results']}",
    )
    say(
        f"5. 已读回执：{'、'.join(r['recipient']['display_name'] for r in read['results'])}"
        f"（已读 {read['read']}，未读 {read['unread']}）"
    )
    recalled = clerk.post(f"/api/v1/mail/messages/{sent['id']}/recall/")
    check(
        recalled["already_read"] == 2 and recalled["recalled"] == sent["recipient_count"] - 2,
        f"recall should reach the unread only: {recalled}",
    )
    unread_one = Person("office_staff")
    copy = next(
        e
        for e in unread_one.get("/api/v1/mail/messages/")["results"]
        if e["mail_id"] == sent["mail_id"]
    )
    check(copy["recalled"] and copy["subject"] == "", f"the unread copy should be recalled: {copy}")
    kept = readers[0].get("/api/v1/mail/messages/", folder="inbox")["results"]
    check(
        any(e["mail_id"] == sent["mail_id"] and not e["recalled"] for e in kept), "a reader lost it"
    )
    say(
        f"6. 撤回：{recalled['recalled']} 位未读者处撤回（{unread_one.name} 只见“已撤回”），"
        f"{recalled['already_read']} 位已读者保留"
    )


def main() -> int:
    try:
        schedule()
        mail()
    except Surprise as surprise:
        print(f"SURPRISE: {surprise}", file=sys.stderr)
        return 1
    say("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
