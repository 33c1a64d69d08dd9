#!/usr/bin/env python3
"""The outgoing approval flow and the seal step end to end against a running demo, over HTTP.

Docs: docs/mobile-api.md#the-outgoing-flow-end-to-end. Start the demo (``make demo``)
and run, from the repository root::

    GOVDESK_URL=http://127.0.0.1:8000 .venv/bin/python scripts/demo_flow.py

The clerk drafts an urgent notice and submits it with leader1–3 countersigning and the
mayor signing off; the director reviews with one tap (an empty POST); the three
leaders countersign at the same time, each with one empty POST, and leader1's tap is
sent twice with the same Idempotency-Key (the second is answered as a replay); the
mayor signs off; the number step numbers it; the seal custodian seals it with a TOTP
code (POST /api/v1/tasks/{id}/seal/), GET /documents/{id}/verify/ says intact, trusted,
by 市政府办公室, and one flipped byte of the downloaded PDF posted to
/api/v1/seals/verify/ is not intact; the clerk finishes it; the trail is printed. Then
a second document with leader1 absent (a ten-minute absence, ended again at the end):
deputy1 countersigns for leader1 and the trail says "吴强 代 张伟". Exits non-zero on the
first surprise.

Environment: GOVDESK_URL (default http://127.0.0.1:8000), GOVDESK_DEMO_PASSWORD
(default GovDesk@2026). Needs ``requests`` and ``pyotp`` (both in the dev venv).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import requests

BASE = os.environ.get("GOVDESK_URL", "http://127.0.0.1:8000").rstrip("/")
PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
DEMO_TOTP_SECRET = "GOVDESKDEMOTOTPSECRETONLYFORDEMO"  # docs/demo.md (demo only)
TOTP_USERS = {"custodian", "admin"}
TEMPLATE = "市政府办公室发文"


class Surprise(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Surprise(message)


class Person:
    def __init__(self, username: str) -> None:
        self.username = username
        self.http = requests.Session()
        self.http.headers["Accept-Encoding"] = "gzip"
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        for attempt in range(2):
            if username in TOTP_USERS:
                body["otp"] = pyotp.TOTP(DEMO_TOTP_SECRET).now()
            response = self.http.post(f"{BASE}/api/v1/auth/token/", json=body, timeout=30)
            if response.status_code == 200:
                break
            code = response.json().get("error", {}).get("code")
            if code == "otp_invalid" and attempt == 0:  # a code used moments ago: wait
                time.sleep(31 - time.time() % 30)
                continue
            raise Surprise(f"login {username}: {response.status_code} {response.text}")
        self.id: int = 0
        self.http.headers["Authorization"] = f"Bearer {response.json()['access']}"
        self.id = self.get("/api/v1/me/")["id"]

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(f"{BASE}{path}", params=params, timeout=30)
        check(response.status_code == 200, f"GET {path}: {response.status_code} {response.text}")
        return response.json()

    def post(self, path: str, body: Any = None, key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        if body is None:  # the one tap: no body at all
            return self.http.post(f"{BASE}{path}", headers=headers, timeout=30)
        return self.http.post(f"{BASE}{path}", json=body, headers=headers, timeout=30)

    def task_for(self, document_id: int) -> dict:
        for item in self.get("/api/v1/tasks/", state="todo", page_size=100)["results"]:
            if item["document"]["id"] == document_id:
                return item
        raise Surprise(f"{self.username} has no task for document {document_id}")

    def approve(self, task: dict, key: str | None = None) -> requests.Response:
        response = self.post(f"/api/v1/tasks/{task['id']}/approve/", key=key)
        check(response.status_code == 200, f"{self.username} approve: {response.text}")
        return response


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def draft_and_submit(people: dict[str, Person], title: str) -> int:
    clerk = people["clerk"]
    response = clerk.post(
        "/api/v1/documents/",
        {
            "direction": "outgoing",
            "title": title,
            "doc_type": "notice",
            "urgency": "urgent",
            "body": [
                {"level": 1, "text": "高度重视安全生产工作"},
                {"level": 0, "text": "请认真贯彻落实。"},
            ],
            "main_recipients": "各区县人民政府，市政府各部门",
        },
    )
    check(response.status_code == 201, f"draft: {response.status_code} {response.text}")
    document_id = response.json()["id"]
    templates = clerk.get("/api/v1/workflow-templates/", direction="outgoing")
    rows = templates["results"] if isinstance(templates, dict) else templates
    template = next((t for t in rows if t["name"] == TEMPLATE), None)
    check(template is not None, f"template {TEMPLATE} not found (seed_demo?)")
    participants = {
        "countersigners": [people[n].id for n in ("leader1", "leader2", "leader3")],
        "sign_off_by": people["mayor"].id,
    }
    response = clerk.post(
        f"/api/v1/documents/{document_id}/submit/",
        {"template_id": template["id"], "participants": participants},
    )
    check(response.status_code == 201, f"submit: {response.status_code} {response.text}")
    say(f"clerk drafted document {document_id} and submitted it ({TEMPLATE})")
    return document_id


def print_trail(person: Person, document_id: int) -> list[dict]:
    entries = person.get(f"/api/v1/documents/{document_id}/trail/")["entries"]
    for e in entries:
        say(
            f"  {e['step']['name']:4} {e['actor_label']:12} {e['action'] or e['state']:9} "
            f"{e['opinion'] or '':8} {e['acted_at'] or '-'}"
        )
    return entries


def fresh_code() -> str:
    """A TOTP code of a time step the custodian's login has not used: the next step
    (accepted as clock drift) — the login itself used the current one."""
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + 1)


def seal_and_verify(people: dict[str, Person], document_id: int) -> None:
    """The seal step: the custodian seals (用印) with a TOTP code; /verify/ says intact and
    trusted, by 市政府办公室; one flipped byte of the downloaded PDF is not intact."""
    custodian, clerk = people["custodian"], people["clerk"]
    task = custodian.task_for(document_id)
    response = custodian.post(f"/api/v1/tasks/{task['id']}/seal/", {"otp": fresh_code()})
    check(response.status_code == 200, f"seal: {response.status_code} {response.text}")
    check(response.json()["opinion"] == "已用印", f"seal opinion: {response.text}")
    report = clerk.get(f"/api/v1/documents/{document_id}/verify/")
    unit = report["signed_by_unit"] or {}
    check(report["intact"] and report["certificate_trusted"], f"verify: {report}")
    check(unit.get("short_name") == "市政府办公室", f"signed by {unit}")
    say(f"custodian sealed it (TOTP); verify: intact, trusted, by {unit['short_name']}")
    download = clerk.http.get(f"{BASE}/api/v1/documents/{document_id}/pdf/", timeout=30)
    check(download.status_code == 200, f"pdf: {download.status_code}")
    tampered = bytearray(download.content)
    tampered[len(tampered) // 3] ^= 0x01
    response = clerk.http.post(
        f"{BASE}/api/v1/seals/verify/",
        data=bytes(tampered),
        headers={"Content-Type": "application/pdf"},
        timeout=60,
    )
    check(response.status_code == 200, f"seals/verify: {response.status_code} {response.text}")
    check(response.json()["intact"] is False, f"a changed byte still intact: {response.text}")
    say("one byte of the downloaded PDF flipped: POST /api/v1/seals/verify/ says not intact")


def main_flow(people: dict[str, Person]) -> None:
    print("1. The outgoing flow")
    document_id = draft_and_submit(people, "关于做好冬季安全生产工作的通知")
    people["director"].approve(people["director"].task_for(document_id))
    say("director reviewed (one tap, empty body)")

    tasks = {n: people[n].task_for(document_id) for n in ("leader1", "leader2", "leader3")}
    key = f"tap-{uuid.uuid4()}"
    results: dict[str, requests.Response] = {}

    def tap(name: str, label: str, key: str | None) -> None:
        results[label] = people[name].post(f"/api/v1/tasks/{tasks[name]['id']}/approve/", key=key)

    threads = [
        threading.Thread(target=tap, args=("leader1", "leader1", key)),
        threading.Thread(target=tap, args=("leader2", "leader2", None)),
        threading.Thread(target=tap, args=("leader3", "leader3", None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, response in results.items():
        check(response.status_code == 200, f"{name} countersign: {response.text}")
    replay = people["leader1"].post(f"/api/v1/tasks/{tasks['leader1']['id']}/approve/", key=key)
    check(replay.status_code == 200, f"replay: {replay.status_code} {replay.text}")
    check(replay.headers.get("Idempotent-Replayed") == "true", "the repeat was not a replay")
    say("leader1–3 countersigned concurrently; leader1's repeated tap was answered as a replay")

    people["mayor"].approve(people["mayor"].task_for(document_id))
    number = people["clerk"].get(f"/api/v1/documents/{document_id}/")["doc_number"]
    check(bool(number), "no document number after sign-off")
    say(f"mayor signed off; the document is numbered {number}")
    seal_and_verify(people, document_id)
    # 分发 is the exchange dispatch itself (docs/exchange.md#the-distribute-step): the
    # clerk sends it to the demo's first exchange group and the step completes.
    clerk = people["clerk"]
    group = clerk.get("/api/v1/exchange/groups/")["results"][0]
    task = clerk.task_for(document_id)
    response = clerk.post(f"/api/v1/tasks/{task['id']}/distribute/", {"groups": [group["id"]]})
    check(response.status_code == 200, f"distribute: {response.status_code} {response.text}")
    say(f"distributed to {group['name']}: {response.json()['dispatch']['counts']['total']} units")
    status = clerk.get(f"/api/v1/documents/{document_id}/")["status"]
    check(status == "completed", f"status {status}")
    say("sealed and distributed: completed. The trail:")
    entries = print_trail(people["clerk"], document_id)
    actors = [e["actor"]["id"] for e in entries if e["action"] == "approve"]
    check(len(actors) == len(set(actors)) == 7, f"each opinion once: {actors}")


def absence_flow(people: dict[str, Person]) -> None:
    print("2. leader1 absent: deputy1 acts for leader1")
    now = datetime.now(UTC)
    response = people["leader1"].post(
        "/api/v1/me/absences/",
        {
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(minutes=10)).isoformat(),
            "reason": "出差（演示）",
        },
    )
    check(response.status_code == 201, f"absence: {response.status_code} {response.text}")
    absence_id = response.json()["id"]
    try:
        document_id = draft_and_submit(people, "关于开展冬季消防安全检查的通知")
        people["director"].approve(people["director"].task_for(document_id))
        task = people["deputy1"].task_for(document_id)
        check(
            (task.get("on_behalf_of") or {}).get("id") == people["leader1"].id,
            f"deputy1's task is not on behalf of leader1: {task}",
        )
        people["deputy1"].approve(task)
        say("deputy1 countersigned for leader1. The trail:")
        entries = print_trail(people["clerk"], document_id)
        labels = [e["actor_label"] for e in entries if " 代 " in e["actor_label"]]
        check(len(labels) == 1, f"one entry says who acted for whom: {labels}")
        say(f'the trail says "{labels[0]}" (deputy1 代 leader1)')
    finally:
        people["leader1"].post(f"/api/v1/me/absences/{absence_id}/end/", {})


def main() -> int:
    names = ["clerk", "director", "leader1", "leader2", "leader3", "mayor", "deputy1"]
    try:
        people = {name: Person(name) for name in [*names, "custodian"]}
        main_flow(people)
        absence_flow(people)
    except (Surprise, requests.RequestException) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
