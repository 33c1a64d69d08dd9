#!/usr/bin/env python3
"""Gives leader1 a demo task to approve in the app, over the running demo's HTTP API.

Docs: docs/pwa.md#the-demo-task. Usage, with the demo running (``make demo``)::

    .venv/bin/python pwa/scripts/seed_demo_task.py [--url http://localhost:8000] \\
        [--count 1] [--if-empty]

The clerk drafts an urgent notice and submits it into 市政府办公室发文 with leader1–3
countersigning and the mayor signing off; the director reviews it (one tap). Then
leader1, leader2 and leader3 each have a 会签 task in 待办 — what the PWA's browser tests
and the screenshots approve. Prints the document ids. HTTP through the standard library;
the notice is the demo data's showcase notice (``api.demo.city.showcase_notice``, read
from this repository: 主送 once, as the document's main_recipients). The demo password
comes from GOVDESK_DEMO_PASSWORD (default GovDesk@2026).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

# The notice itself is demo data (api/demo/city.py: pure data, one 主送).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from api.demo.city import SHOWCASE_TITLES, showcase_notice

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
    document = clerk.call("POST", "/api/v1/documents/", showcase_notice(title))
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
    titles = SHOWCASE_TITLES
    for i in range(args.count):
        title = titles[i % len(titles)] + ("" if i < len(titles) else f"（{i + 1}）")
        document_id = seed(args.url, title)
        print(f"document {document_id}: {title} — leader1–3 have a 会签 task")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
