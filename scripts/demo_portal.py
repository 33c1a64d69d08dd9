#!/usr/bin/env python3
"""The portal and publishing flow against a running demo, over real HTTP.

Docs: docs/publishing.md#the-flow-end-to-end. Start the demo (``make demo``) and run,
from the repository root::

    GOVDESK_PORT=8105 python3 scripts/demo_portal.py

The editor office_staff (文电科, 市政府办公室) drafts a must-read notice with a body that
says 防汛 inside 防汛抗旱; the office's publisher director publishes it to two units
(市发展和改革委员会 and 市财政局) as must-read; b_staff (a department of 市发改委, so
in the audience) sees it among the portal's unread must-reads and marks it read; yc_clerk
(渝城区, outside the audience) gets 404 for it; the director sees 1 read and N unread;
a search for 防汛 finds it. Exits non-zero on the first surprise.

Environment: GOVDESK_URL (default http://127.0.0.1:${GOVDESK_PORT:-8000}),
GOVDESK_DEMO_PASSWORD (default GovDesk@2026). Standard library only.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PORT = os.environ.get("GOVDESK_PORT", "8000")
BASE = os.environ.get("GOVDESK_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
WORD = "防汛"


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def call(method: str, path: str, body: Any = None, token: str = "") -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Accept-Encoding", "gzip")
    request.add_header("Accept-Language", "zh-CN")
    if data is not None:
        request.add_header("Content-Type", "application/json")
        request.add_header("Idempotency-Key", uuid.uuid4().hex)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw, encoding = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, encoding = error.code, error.read(), error.headers
    if encoding.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    return status, json.loads(raw) if raw else None


class Person:
    def __init__(self, username: str) -> None:
        self.username = username
        status, body = call(
            "POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        check(status == 200, f"login {username}: {status} {body}")
        self.token = body["access"]

    def get(self, path: str, expect: int = 200) -> Any:
        status, body = call("GET", path, token=self.token)
        check(status == expect, f"{self.username} GET {path}: {status} {body}")
        return body

    def post(self, path: str, body: Any, expect: int = 200) -> Any:
        status, answer = call("POST", path, body, token=self.token)
        check(status == expect, f"{self.username} POST {path}: {status} {answer}")
        return answer


def unit_id(person: Person, name: str) -> int:
    units = person.get("/api/v1/units/?page_size=200")["results"]
    for unit in units:
        if unit["name"] == name:
            return int(unit["id"])
    raise Surprise(f"no unit {name}")


def main() -> None:
    editor, publisher = Person("office_staff"), Person("director")
    reader, outsider = Person("b_staff"), Person("yc_clerk")
    admin = Person("b_admin")
    channels = editor.get("/api/v1/channels/?scope=city")["results"]
    notices = next(c for c in channels if c["name"] == "通知公告")
    audience = [
        unit_id(admin, "新城市发展和改革委员会"),
        unit_id(admin, "新城市财政局"),
    ]
    title = f"关于做好冬季防汛抗旱和安全生产工作的紧急通知（{datetime.now():%H%M%S}）"
    deadline = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    draft = editor.post(
        "/api/v1/posts/",
        {
            "channel": notices["id"],
            "title": title,
            "body": [
                {"level": 0, "text": "市发改委、市财政局："},
                {"level": 0, "text": "请立即部署防汛抗旱物资储备检查，并于本周五前报送情况。"},
            ],
            "audience": {"kind": "units", "unit_ids": audience},
            "must_read": True,
            "read_deadline": deadline,
        },
        expect=201,
    )
    post_id = draft["id"]
    print(f"1. {editor.username} drafted post {post_id}: state={draft['state']}")
    check(draft["state"] == "draft", "a new post is a draft")
    editor.post(f"/api/v1/posts/{post_id}/publish/", {}, expect=403)
    published = publisher.post(f"/api/v1/posts/{post_id}/publish/", {"opinion": "同意发布"})
    check(published["state"] == "published", "the publisher publishes it")
    print(f"2. {publisher.username} published it to units {audience} as must-read")

    home = reader.get("/api/v1/portal/")
    unread = [item["id"] for item in home["must_read"]["items"]]
    check(post_id in unread, f"{reader.username} sees it among unread must-reads: {unread}")
    print(f"3. {reader.username} sees it on the portal (unread must-reads: {unread})")
    reader.get(f"/api/v1/posts/{post_id}/")
    read = reader.post(f"/api/v1/posts/{post_id}/read/", {})
    print(f"   and marks it read at {read['read_at']}")
    home = reader.get("/api/v1/portal/")
    check(
        post_id not in [i["id"] for i in home["must_read"]["items"]], "read: gone from the banner"
    )

    outsider.get(f"/api/v1/posts/{post_id}/", expect=404)
    print(f"4. {outsider.username} (渝城区, outside the audience) gets 404")

    progress = publisher.get(f"/api/v1/posts/{post_id}/readers/")
    check(progress["read"] == 1, f"1 read: {progress}")
    check(progress["unread"] >= 1, f"N unread: {progress}")
    by_unit = ", ".join(
        f"{u['unit']['name']} {u['read']}/{u['total']}" for u in progress["by_unit"]
    )
    counts = f"{progress['read']} read / {progress['unread']} unread"
    print(f"5. {publisher.username} sees {counts} ({by_unit})")

    query = urllib.parse.quote(WORD)
    found = reader.get(f"/api/v1/search/?q={query}")
    ids = [hit["id"] for hit in found["results"]]
    check(post_id in ids, f"search {WORD} finds post {post_id}: {ids}")
    print(f"6. search {WORD!r} (terms {found['terms']}) finds it at rank {ids.index(post_id) + 1}")
    print("OK")


if __name__ == "__main__":
    try:
        main()
    except Surprise as surprise:
        print(f"SURPRISE: {surprise}", file=sys.stderr)
        sys.exit(1)
