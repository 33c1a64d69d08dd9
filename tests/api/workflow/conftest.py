"""Fixtures of the workflow tests: the demo city with its templates (seed_demo).

Docs: docs/workflow.md. ``demo.user("leader1")`` etc.; ``draft(...)`` creates an
outgoing draft by the office clerk; ``go(...)`` approves the open task of a user.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command

from api.accounts.models import Unit, User
from api.workflow.models import Task, TaskState, WorkflowTemplate


@dataclass
class Demo:
    users: dict[str, User] = field(default_factory=dict)

    def user(self, name: str) -> User:
        if name not in self.users:
            self.users[name] = User.objects.select_related("unit").get(username=name)
        return self.users[name]

    def unit(self, code: str) -> Unit:
        return Unit.objects.get(code=code)

    def template(self, name: str) -> WorkflowTemplate:
        return WorkflowTemplate.objects.get(name=name, is_active=True)

    def open_task(self, username: str, document) -> Task:
        return Task.objects.get(
            assignee=self.user(username), document=document, state=TaskState.OPEN
        )

    def draft(self, drafter: str = "clerk", **fields):
        from api.documents.actions import create_draft

        values = {
            "direction": "outgoing",
            "title": "关于做好2026年春节期间安全生产工作的通知",
            "doc_type": "notice",
            "urgency": "normal",
            "body": [{"level": 0, "text": "各区县人民政府，市政府各部门："}],
            "main_recipients": "各区县人民政府",
        }
        values.update(fields)
        return create_draft(self.user(drafter), **values)


@pytest.fixture
def demo(db) -> Demo:
    call_command("seed_demo", stdout=io.StringIO())
    return Demo()


@pytest.fixture
def outgoing(demo):
    """Submit an outgoing draft: countersign by leader1-3, sign-off by the mayor."""
    from api.workflow import actions

    def start(countersigners=("leader1", "leader2", "leader3"), **fields):
        document = demo.draft(**fields)
        instance = actions.submit(
            document.pk,
            demo.user("clerk"),
            demo.template("市政府办公室发文").pk,
            {
                "countersigners": [demo.user(n).pk for n in countersigners],
                "sign_off_by": demo.user("mayor").pk,
            },
        )
        return document, instance

    return start
