"""Fixtures for the mobile approval API tests over HTTP (docs/mobile-api.md).

``demo``: the demo city (``seed_demo``) with real logins through
``POST /api/v1/auth/token/``; ``Flow`` drives a document through the demo outgoing
template over HTTP. ``make_tasks`` builds rows directly for read-side tests that need
many tasks (lists, pagination, query counts).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from api.accounts.models import User

OUTGOING_TEMPLATE = "市政府办公室发文"


def login(username: str) -> APIClient:
    """A client signed in through the real token endpoint with the demo password."""
    from api.demo.city import DEMO_TOTP_SECRET

    client = APIClient()
    body: dict[str, Any] = {"username": username, "password": settings.GOVDESK_DEMO_PASSWORD}
    user = User.objects.get(username=username)
    if user.has_totp:
        body["otp"] = pyotp.TOTP(DEMO_TOTP_SECRET).now()
    response = client.post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


class Demo:
    def __init__(self) -> None:
        self._clients: dict[str, APIClient] = {}

    def user(self, username: str) -> User:
        return User.objects.get(username=username)

    def id(self, username: str) -> int:
        return self.user(username).pk

    def client(self, username: str) -> APIClient:
        if username not in self._clients:
            self._clients[username] = login(username)
        return self._clients[username]

    def template_id(self, name: str = OUTGOING_TEMPLATE) -> int:
        from api.workflow.models import WorkflowTemplate

        return WorkflowTemplate.objects.get(name=name, is_active=True).pk

    def draft(self, title: str = "关于做好冬季安全生产工作的通知", **extra: Any) -> int:
        body = {
            "direction": "outgoing",
            "title": title,
            "doc_type": "notice",
            "urgency": "urgent",
            "body": [
                {"level": 0, "text": "各区县人民政府，市政府各部门："},
                {"level": 1, "text": "高度重视安全生产工作"},
            ],
            "main_recipients": "各区县人民政府",
            **extra,
        }
        response = self.client("clerk").post("/api/v1/documents/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    def submit(self, document_id: int, countersigners=("leader1", "leader2", "leader3")) -> dict:
        participants = {
            "countersigners": [self.id(name) for name in countersigners],
            "sign_off_by": self.id("mayor"),
        }
        response = self.client("clerk").post(
            f"/api/v1/documents/{document_id}/submit/",
            {"template_id": self.template_id(), "participants": participants},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"submit-{uuid.uuid4()}",
        )
        assert response.status_code == 201, response.content
        return response.json()

    def todo_for(self, username: str, document_id: int) -> dict:
        response = self.client(username).get("/api/v1/tasks/", {"state": "todo"})
        assert response.status_code == 200, response.content
        mine = [t for t in response.json()["results"] if t["document"]["id"] == document_id]
        assert len(mine) == 1, (username, response.json())
        return mine[0]

    def approve(self, username: str, task_id: int, key: str | None = None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return self.client(username).post(f"/api/v1/tasks/{task_id}/approve/", **headers)


@pytest.fixture
def demo(db) -> Demo:
    call_command("seed_demo", verbosity=0)
    return Demo()


_counter = itertools.count(1)


@pytest.fixture
def make_tasks(org):
    """make_tasks(user, n, urgency_cycle=..., due_offsets_hours=...) → list[Task]: open
    tasks of ``user`` on fresh documents of the office, built as rows."""
    from api.documents.models import Document
    from api.workflow.models import URGENCY_RANK, Task, WorkflowInstance, WorkflowTemplate

    template = WorkflowTemplate.objects.create(unit=org.office, name="t", direction="outgoing")

    def build(
        user: User,
        n: int,
        *,
        sender: User | None = None,
        urgencies=("normal", "urgent", "very_urgent"),
        due_hours=(-5, 30, None, 2, 70),
        state: str = "open",
    ) -> list[Task]:
        now = timezone.now()
        out = []
        for i in range(n):
            urgency = urgencies[i % len(urgencies)]
            hours = due_hours[i % len(due_hours)]
            document = Document.objects.create(
                direction="outgoing",
                title=f"关于第{next(_counter)}项工作的请示（测试）",
                doc_type="request",
                urgency=urgency,
                unit=org.office,
                drafter=sender or user,
                status="in_progress",
            )
            instance = WorkflowInstance.objects.create(
                document=document, template=template, started_by=sender or user, steps=[]
            )
            out.append(
                Task.objects.create(
                    instance=instance,
                    document=document,
                    step_order=1,
                    step_kind="review",
                    step_name="核稿",
                    assignee=user,
                    sender=sender,
                    state=state,
                    received_at=now - timedelta(hours=1),
                    due_at=None if hours is None else now + timedelta(hours=hours),
                    acted_at=now - timedelta(minutes=i) if state == "done" else None,
                    urgency=urgency,
                    urgency_rank=URGENCY_RANK[urgency],
                )
            )
        return out

    return build
