#!/usr/bin/env python3
"""Gives leader1 a demo task to approve in the app, over the running demo's HTTP API.

Docs: docs/pwa.md#the-demo-task. Usage, with the demo running (``make demo``)::

    .venv/bin/python pwa/scripts/seed_demo_task.py [--url http://localhost:8000] \\
        [--count 1] [--if-empty]

The clerk drafts an urgent notice and submits it into 市政府办公室发文 with leader1–3
countersigning and the mayor signing off; the director reviews it (one tap). Then
leader1, leader2 and leader3 each have a 会签 task in 待办 — what the PWA's browser tests
and the screenshots approve. Prints the document ids. Standard library only; the demo
password comes from GOVDESK_DEMO_PASSWORD (default GovDesk@2026).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

PASSWORD = os.environ.get("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")
TEMPLATE = "市政府办公室发文"


class Api:
    def __init__(self, base: str, username: str) -> None:
        self.base = base.rstrip("/")
        login = self.call(
            "POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        self.token = login["access"]
        self.id = login["user"]["id"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        if method == "POST" and not path.startswith("/api/v1/auth/"):
            request.add_header("Idempotency-Key", f"seed-{uuid.uuid4()}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (http only)
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(
                f"{method} {path}: {error.code} {error.read().decode()[:500]}"
            ) from None
        return json.loads(raw) if raw else None


def seed(base: str, title: str) -> int:
    clerk, director = Api(base, "clerk"), Api(base, "director")
    leaders = [Api(base, name).id for name in ("leader1", "leader2", "leader3")]
    mayor = Api(base, "mayor").id
    document = clerk.call(
        "POST",
        "/api/v1/documents/",
        {
            "direction": "outgoing",
            "title": title,
            "doc_type": "notice",
            "urgency": "urgent",
            "body": [
                {"level": 0, "text": "各区县人民政府，市政府各部门："},
                {"level": 1, "text": "高度重视冬季安全生产工作"},
                {"level": 0, "text": "各地各部门要压实责任，开展隐患排查，确保群众生命财产安全。"},
                {"level": 0, "text": "请认真贯彻落实。"},
            ],
            "main_recipients": "各区县人民政府，市政府各部门",
        },
    )
    templates = clerk.call("GET", "/api/v1/workflow-templates/?direction=outgoing")
    rows = templates["results"] if isinstance(templates, dict) else templates
    template = next(t for t in rows if t["name"] == TEMPLATE)
    clerk.call(
        "POST",
        f"/api/v1/documents/{document['id']}/submit/",
        {
            "template_id": template["id"],
            "participants": {"countersigners": leaders, "sign_off_by": mayor},
        },
    )
    todo = director.call("GET", "/api/v1/tasks/?state=todo&page_size=100")["results"]
    task = next(t for t in todo if t["document"]["id"] == document["id"])
    director.call("POST", f"/api/v1/tasks/{task['id']}/approve/")
    return int(document["id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("GOVDESK_URL", "http://localhost:8000"))
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when leader1 already has an open task (safe on every demo start)",
    )
    args = parser.parse_args()
    if args.if_empty:
        todo = Api(args.url, "leader1").call("GET", "/api/v1/tasks/?state=todo&page_size=1")
        if todo["results"]:
            print("leader1 already has a task in 待办: nothing to do")  # noqa: T201
            return 0
    titles = [
        "关于做好冬季安全生产工作的通知",
        "关于开展冬季消防安全检查的通知",
        "关于做好元旦春节期间值班工作的通知",
    ]
    for i in range(args.count):
        title = titles[i % len(titles)] + ("" if i < len(titles) else f"（{i + 1}）")
        document_id = seed(args.url, title)
        print(f"document {document_id}: {title} — leader1–3 have a 会签 task")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
