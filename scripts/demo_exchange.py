#!/usr/bin/env python3
"""The exchange between units end to end against a running demo, over real HTTP.

Docs: docs/exchange.md#demo. Start the demo (``make demo``) and run, from the
repository root::

    GOVDESK_URL=http://127.0.0.1:8000 .venv/bin/python scripts/demo_exchange.py [--document ID]

Without ``--document`` it first makes a sealed notice the way scripts/demo_flow.py
does (clerk drafts and submits, director reviews, mayor signs off, the number step
numbers it, custodian seals it with a TOTP code). Then the office's clerk dispatches
it to the ten units of the demo groups 市直部门 and 全体区县政府 — which completes the
flow's distribute step (分发) — the worker notifies their clerks, and the script prints
each unit's status; 市数据局's clerk reads it; the office recalls 市教育局's copy before
sign-for (200); 市财政局 signs for it (registered: no incoming template); 市发改委 signs
for it and its incoming flow starts with a handler, who handles it and answers (答复):
the reply arrives in the office's inbox; 渝城区 returns it with a reason;
recalling 市财政局's copy now is refused (409 already_signed_for); the final status is
printed. Exits non-zero on the first surprise.

Standard library only. Environment: GOVDESK_URL (default http://127.0.0.1:8000),
GOVDESK_DEMO_PASSWORD (default GovDesk@2026).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

BASE = os.environ.get("GOVDESK_URL", "http://127.0.0.1:8000").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
DEMO_TOTP_SECRET = "GOVDESKDEMOTOTPSECRETONLYFORDEMO"  # docs/demo.md (demo only)
TOTP_USERS = {"custodian", "admin", "b_custodian"}
TEMPLATE = "市政府办公室发文"
GROUPS = ("市直部门", "全体区县政府")


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def totp(step_offset: int = 0) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s) of the demo secret, ``step_offset`` steps on."""
    key = base64.b32decode(DEMO_TOTP_SECRET)
    counter = int(time.time()) // 30 + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


class Answer:
    def __init__(self, status: int, body: bytes, headers: Any) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def code(self) -> str | None:
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None


def request(method: str, path: str, body: Any = None, token: str = "") -> Answer:
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if method != "GET":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    call = urllib.request.Request(f"{BASE}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return Answer(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), error.headers)


class Person:
    def __init__(self, username: str) -> None:
        self.username = username
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        for attempt in range(3):
            if username in TOTP_USERS:
                body["otp"] = totp()
            answer = request("POST", "/api/v1/auth/token/", body)
            if answer.status == 200:
                break
            # a code (or the next one, used to seal) spent moments ago: wait for a fresh one
            if answer.code == "otp_invalid" and attempt < 2:
                time.sleep(31 - time.time() % 30)
                continue
            raise Surprise(f"login {username}: {answer.status} {answer.body[:300]!r}")
        self.token = answer.json()["access"]
        self.id = self.get("/api/v1/me/")["id"]

    def get(self, path: str) -> Any:
        answer = request("GET", path, token=self.token)
        check(answer.status == 200, f"{self.username} GET {path}: {answer.status} {answer.body!r}")
        return answer.json()

    def post(self, path: str, body: Any = None) -> Answer:
        return request("POST", path, body, token=self.token)

    def task_for(self, document_id: int) -> dict:
        for item in self.get("/api/v1/tasks/?state=todo&page_size=100")["results"]:
            if item["document"]["id"] == document_id:
                return item
        raise Surprise(f"{self.username} has no task for document {document_id}")

    def approve(self, document_id: int) -> None:
        task = self.task_for(document_id)
        answer = self.post(f"/api/v1/tasks/{task['id']}/approve/")
        check(answer.status == 200, f"{self.username} approve: {answer.body!r}")


def sealed_notice(people: dict[str, Person]) -> int:
    """The outgoing flow of demo_flow.py, without the countersign: a sealed notice."""
    clerk = people["clerk"]
    answer = clerk.post(
        "/api/v1/documents/",
        {
            "direction": "outgoing",
            "title": "关于做好冬季森林防火工作的通知",
            "doc_type": "notice",
            "urgency": "urgent",
            "body": [
                {"level": 1, "text": "一、压实森林防火责任"},
                {"level": 0, "text": "请认真贯彻落实。"},
            ],
            "main_recipients": "各区县人民政府，市政府各部门",
        },
    )
    check(answer.status == 201, f"draft: {answer.status} {answer.body!r}")
    document_id = answer.json()["id"]
    templates = clerk.get("/api/v1/workflow-templates/?direction=outgoing")["results"]
    template = next((t for t in templates if t["name"] == TEMPLATE), None)
    check(template is not None, f"template {TEMPLATE} not found (seed_demo?)")
    answer = clerk.post(
        f"/api/v1/documents/{document_id}/submit/",
        {"template_id": template["id"], "participants": {"sign_off_by": people["mayor"].id}},
    )
    check(answer.status == 201, f"submit: {answer.status} {answer.body!r}")
    people["director"].approve(document_id)
    people["mayor"].approve(document_id)
    custodian = people["custodian"]
    task = custodian.task_for(document_id)
    # the login used the current time step; the next one counts as clock drift
    answer = custodian.post(f"/api/v1/tasks/{task['id']}/seal/", {"otp": totp(1)})
    check(answer.status == 200, f"seal: {answer.status} {answer.body!r}")
    # the distribute step (分发) stays open: the dispatch below completes it
    number = clerk.get(f"/api/v1/documents/{document_id}/")["doc_number"]
    say(f"document {document_id} {number}: reviewed, signed off, numbered, sealed")
    return document_id


def print_status(clerk: Person, document_id: int) -> dict[str, dict]:
    status = clerk.get(f"/api/v1/documents/{document_id}/dispatch/?page_size=200")
    by_unit: dict[str, dict] = {}
    for item in status["results"]:
        name = item["unit"]["short_name"] or item["unit"]["name"]
        by_unit[name] = item
        marks = [item["state"]]
        if item["read_at"]:
            marks.append("read")
        if item["return_reason"]:
            marks.append(f"reason: {item['return_reason']}")
        say(f"  {name:<12} {item['role']:<3} {' · '.join(marks)}")
    counts = status["dispatch"]["counts"]
    say(f"  counts: {json.dumps(counts, ensure_ascii=False)} ({status['dispatch']['state']})")
    return by_unit


def exchange(people: dict[str, Person], document_id: int) -> None:
    clerk = people["clerk"]
    groups = {g["name"]: g["id"] for g in clerk.get("/api/v1/exchange/groups/")["results"]}
    check(all(name in groups for name in GROUPS), f"demo groups missing: {groups}")
    answer = clerk.post(
        f"/api/v1/documents/{document_id}/dispatch/", {"groups": [groups[n] for n in GROUPS]}
    )
    check(answer.status == 202, f"dispatch: {answer.status} {answer.body!r}")
    dispatch = answer.json()
    check(dispatch["counts"]["total"] == 10, f"ten recipients: {dispatch['counts']}")
    say(f"dispatched to 10 units ({' + '.join(GROUPS)}): 202, state {dispatch['state']}")
    status = clerk.get(f"/api/v1/documents/{document_id}/")["status"]
    check(status == "completed", f"the dispatch completes the 分发 step: {status}")
    say("the dispatch completed the flow's 分发 step (已分发, backed by the dispatch)")
    again = clerk.post(
        f"/api/v1/documents/{document_id}/dispatch/", {"groups": [groups[GROUPS[0]]]}
    )
    check(again.code == "already_dispatched", f"second dispatch: {again.status} {again.body!r}")
    say("dispatching it again: 409 already_dispatched")

    deadline = time.monotonic() + 90
    while clerk.get(f"/api/v1/documents/{document_id}/dispatch/")["dispatch"]["state"] != "sent":
        check(time.monotonic() < deadline, "the worker did not fan out within 90 s (worker up?)")
        time.sleep(1)
    inbox = people["cz_clerk"].get("/api/v1/exchange/inbox/")["results"]
    check(any(r["document"]["id"] == document_id for r in inbox), "not in 市财政局's inbox")
    say("the worker notified every unit's clerk; 市财政局's inbox lists it. Each unit:")
    units = print_status(clerk, document_id)

    people["sj_clerk"].get(f"/api/v1/exchange/{units['市数据局']['id']}/")
    say("市数据局's clerk opened it (read)")
    answer = clerk.post(f"/api/v1/exchange/{units['市教育局']['id']}/recall/", {})
    check(answer.status == 200, f"recall before sign-for: {answer.status} {answer.body!r}")
    say("the office recalled 市教育局's copy before sign-for: 200 recalled")

    answer = people["cz_clerk"].post(f"/api/v1/exchange/{units['市财政局']['id']}/sign/", {})
    check(answer.status == 200, f"sign-for: {answer.status} {answer.body!r}")
    flow, incoming = answer.json()["flow"], answer.json()["incoming_document_id"]
    say(f"市财政局 signed for it: 收文 {incoming} registered; flow: {flow['code'] or 'started'}")
    report = people["cz_clerk"].get(f"/api/v1/documents/{incoming}/verify/")
    signer = (report["signed_by_unit"] or {}).get("short_name")
    check(report["intact"] and report["certificate_trusted"], f"verify: {report}")
    say(f"its 收文 carries the sealed PDF: verify says intact, trusted, sealed by {signer}")
    answer = people["b_clerk"].post(
        f"/api/v1/exchange/{units['市发展和改革委员会']['id']}/sign/",
        {"participants": {"handler": people["b_staff"].id}},
    )
    check(answer.status == 200 and answer.json()["flow"]["started"], f"sign: {answer.body!r}")
    say("市发改委 signed for it: its incoming flow started (签收 done, 承办 with 林娜)")
    b_incoming = answer.json()["incoming_document_id"]
    people["b_staff"].approve(b_incoming)  # 承办
    people["b_staff"].approve(b_incoming)  # 答复: goes back through the exchange
    replies = [
        r
        for r in clerk.get("/api/v1/exchange/inbox/")["results"]
        if (r.get("in_reply_to") or {}).get("document_id") == document_id
    ]
    check(len(replies) == 1, f"the reply in the office's inbox: {replies}")
    say(
        f"林娜 answered (答复): it arrived in the office's inbox, {replies[0]['document']['title']}"
    )
    answer = people["yc_clerk"].post(
        f"/api/v1/exchange/{units['渝城区政府办']['id']}/return/",
        {"reason": "请直接发送渝城区政府"},
    )
    check(answer.status == 200, f"return: {answer.status} {answer.body!r}")
    say("渝城区 returned it with a reason")

    answer = clerk.post(f"/api/v1/exchange/{units['市财政局']['id']}/recall/", {})
    check(answer.status == 409, f"recall after sign-for: {answer.status} {answer.body!r}")
    check(answer.code == "already_signed_for", f"code: {answer.body!r}")
    say("recalling 市财政局's copy after sign-for: 409 already_signed_for")
    say("final status:")
    final = print_status(clerk, document_id)
    states = sorted(item["state"] for item in final.values())
    check(
        states.count("signed_for") == 2 and states.count("recalled") == 1,
        f"final states: {states}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--document", type=int, help="a sealed outgoing document of 市政府办公室")
    args = parser.parse_args()
    names = ["clerk", "cz_clerk", "b_clerk", "b_staff", "yc_clerk", "sj_clerk"]
    if args.document is None:
        names += ["director", "mayor", "custodian"]
    try:
        people = {name: Person(name) for name in names}
        print("1. A sealed notice")
        document_id = args.document or sealed_notice(people)
        if args.document:
            say(f"using document {document_id}")
        print("2. The exchange")
        exchange(people, document_id)
    except (Surprise, urllib.error.URLError, OSError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
