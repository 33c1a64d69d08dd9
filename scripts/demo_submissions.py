#!/usr/bin/env python3
"""信息报送's done-when flow against a running demo, over real HTTP (stdlib only).

Docs: docs/submissions.md#demo. Start the demo (``GOVDESK_PORT=8109 make demo``) and
run, from the repository root::

    GOVDESK_PORT=8109 python3 scripts/demo_submissions.py

Three units submit (发改委 b_clerk/b_leader, 财政局 cz_clerk/cz_leader, 教育局
jy_clerk/jy_leader); the editor (office_staff) adopts the first into a new issue of
《新城政务信息》, merges the second into it and returns the third with a reason; the
director approves the issue, the editor publishes it (numbered, PDF rendered); leader1
writes an instruction on the first item; the scores of both units change by exactly
the points of the rules named by their new entries. Exits non-zero on the first
surprise.

Environment: GOVDESK_URL (default http://127.0.0.1:${GOVDESK_PORT:-8000}),
GOVDESK_DEMO_PASSWORD (default GovDesk@2026).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

PORT = os.environ.get("GOVDESK_PORT", "8000")
BASE = os.environ.get("GOVDESK_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
OFFICE = "市政府办公室信息科"
JOURNAL = "新城政务信息"


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def request(
    method: str, path: str, body: Any = None, token: str | None = None, key: str | None = None
) -> tuple[int, Any, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{BASE}{path}", data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if method == "POST":
        req.add_header("Idempotency-Key", key or str(uuid.uuid4()))
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            raw = response.read()
            status = response.status
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        raw = error.read()
        status = error.code
        kind = error.headers.get("Content-Type", "")
    payload = json.loads(raw) if "json" in kind and raw else None
    return status, payload, raw


class Person:
    def __init__(self, username: str) -> None:
        self.username = username
        status, body, raw = request(
            "POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        check(status == 200, f"login {username}: {status} {raw[:300]!r}")
        self.token = body["access"]

    def get(self, path: str, **params: Any) -> Any:
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        status, body, raw = request("GET", path + query, token=self.token)
        check(status == 200, f"GET {path}: {status} {raw[:300]!r}")
        return body

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        status, payload, raw = request("POST", path, body if body is not None else {}, self.token)
        check(status == expect, f"{self.username} POST {path}: {status} {raw[:400]!r}")
        return payload


def say(text: str) -> None:
    print(text, flush=True)


def send(clerk: Person, leader: Person, office_id: int, title: str) -> int:
    item = clerk.post(
        "/api/v1/submissions/",
        {"title": title, "body": f"{title}，成效明显。", "category": "经济"},
        expect=201,
    )
    leader.post(f"/api/v1/submissions/{item['id']}/approve/")
    clerk.post(f"/api/v1/submissions/{item['id']}/submit/", {"offices": [office_id]})
    again = clerk.post(
        f"/api/v1/submissions/{item['id']}/submit/", {"offices": [office_id]}, expect=409
    )
    check(again["error"]["code"] == "duplicate_submission", f"duplicate not refused: {again}")
    say(f"  {clerk.username} 报送《{title}》 (#{item['id']})；重复报送被拒绝")
    return int(item["id"])


def scores(person: Person, year: int) -> dict[int, int]:
    return {
        row["unit_id"]: row["points"]
        for row in person.get("/api/v1/submission-scores/", year=year)["results"]
    }


def entries(person: Person, unit_id: int) -> list[dict]:
    return person.get("/api/v1/submission-score-entries/", unit=unit_id, page_size=200)["results"]


def main() -> int:
    editor = Person("office_staff")
    director = Person("director")
    leader = Person("leader1")
    b_clerk, b_leader = Person("b_clerk"), Person("b_leader")
    cz_clerk, cz_leader = Person("cz_clerk"), Person("cz_leader")
    jy_clerk, jy_leader = Person("jy_clerk"), Person("jy_leader")

    journal = next(
        j for j in editor.get("/api/v1/journals/", page_size=200)["results"] if j["name"] == JOURNAL
    )
    office_id = journal["office"]["id"]
    check(journal["office"]["name"] == OFFICE, "journal of the wrong office")

    say("1. 三个单位报送")
    a = send(b_clerk, b_leader, office_id, "市发改委推动重大项目提速落地")
    b = send(cz_clerk, cz_leader, office_id, "市财政局保障重大项目资金到位")
    c = send(jy_clerk, jy_leader, office_id, "市教育局召开工作例会")
    unit_a = b_clerk.get(f"/api/v1/submissions/{a}/")["unit"]["id"]
    unit_b = cz_clerk.get(f"/api/v1/submissions/{b}/")["unit"]["id"]

    say("2. 编辑采用、综合采用、退回")
    issue = editor.post("/api/v1/journal-issues/", {"journal": journal["id"]}, expect=201)
    first_year_guess = scores(editor, datetime.date.today().year)
    editor.post(f"/api/v1/submissions/{a}/adopt/", {"office": office_id, "issue": issue["id"]})
    editor.post(f"/api/v1/submissions/{b}/merge/", {"office": office_id, "into": a})
    returned = editor.post(
        f"/api/v1/submissions/{c}/return/",
        {"office": office_id, "reason": "属一般性会议信息，不予采用"},
    )
    check(returned["deliveries"][0]["state"] == "returned", "not returned")
    seen = jy_clerk.get(f"/api/v1/submissions/{c}/")["deliveries"][0]
    say(f"  教育局看到退回理由：{seen['reason']}")

    say("3. 编辑成期、领导审核、发布")
    editor.post(f"/api/v1/journal-issues/{issue['id']}/publish/", expect=409)
    director.post(f"/api/v1/journal-issues/{issue['id']}/approve/")
    published = editor.post(f"/api/v1/journal-issues/{issue['id']}/publish/")
    check(published["state"] == "published" and published["number"], f"not published: {published}")
    check(
        published["items"][0]["unit_ids"] == [unit_a, unit_b],
        f"credited units: {published['items']}",
    )
    year = published["year"]
    status, _, pdf = request(
        "GET", f"/api/v1/journal-issues/{issue['id']}/pdf/", token=leader.token
    )
    check(status == 200 and pdf.startswith(b"%PDF"), f"pdf: {status}")
    numbers = sorted(
        i["number"]
        for i in editor.get("/api/v1/journal-issues/", journal=journal["id"], page_size=200)[
            "results"
        ]
        if i["number"] and i["year"] == year
    )
    check(numbers == list(range(1, len(numbers) + 1)), f"issue numbers have a gap: {numbers}")
    say(
        f"  {published['title']}（{published['pages']} 页 PDF，{len(pdf)} 字节）；"
        f"本年期号 {numbers}"
    )

    say("4. 领导阅读并批示")
    before = scores(editor, year)
    reading = leader.get(f"/api/v1/journal-issues/{issue['id']}/")
    check(reading["items"][0]["submission_id"] == a, "leader does not see the item")
    leader.post(
        f"/api/v1/submissions/{a}/instructions/",
        {"office": office_id, "text": "经验做法很好，请在全市推广。"},
    )
    shown = b_clerk.get(f"/api/v1/submissions/{a}/")["instructions"]
    check(
        shown and shown[-1]["text"].startswith("经验做法很好"), "unit does not see the instruction"
    )
    after = scores(editor, year)

    say("5. 积分核对")
    for unit_id, submission_id, events in (
        (unit_a, a, {"adopted", "instruction"}),
        (unit_b, b, {"merged"}),
    ):
        mine = [e for e in entries(editor, unit_id) if e["submission_id"] == submission_id]
        check({e["event"] for e in mine} == events, f"unit {unit_id} entries: {mine}")
        for e in mine:
            check(
                e["points"] == e["rule"]["points"], f"entry {e['id']} points differ from its rule"
            )
            say(f"  单位 {unit_id}：{e['event']} +{e['points']}（规则 #{e['rule']['id']}）")
        gained = after.get(unit_id, 0) - first_year_guess.get(unit_id, 0)
        check(
            gained == sum(e["points"] for e in mine),
            f"unit {unit_id} gained {gained}, entries say {sum(e['points'] for e in mine)}",
        )
    instruction_points = next(
        e
        for e in entries(editor, unit_a)
        if e["event"] == "instruction" and e["submission_id"] == a
    )["points"]
    check(after[unit_a] - before[unit_a] == instruction_points, "instruction points")
    check(
        after.get(unit_b) == before.get(unit_b),
        "the merged unit changed on an instruction it did not get",
    )
    say("OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Surprise as surprise:
        print(f"SURPRISE: {surprise}", file=sys.stderr)
        sys.exit(1)
