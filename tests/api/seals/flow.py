"""Drive a demo outgoing document to its seal step (docs/seals.md#the-seal-step).

Used by tests/api/seals/test_seal_step.py and tests/api/documents/test_pdf_endpoints.py.
Needs the demo city (``seed_demo``, which also seeds the demo CA and the 市政府办公室 seal).
"""

from __future__ import annotations

import pyotp
from django.utils import timezone

from api.accounts.models import User
from api.documents.actions import create_draft
from api.documents.models import Document
from api.workflow import actions
from api.workflow.models import Task, TaskState, WorkflowTemplate


def user(name: str) -> User:
    return User.objects.select_related("unit").get(username=name)


def open_task(name: str, document: Document) -> Task:
    return Task.objects.get(assignee=user(name), document=document, state=TaskState.OPEN)


def to_seal_step(title: str = "关于做好冬季安全生产工作的通知") -> tuple[Document, Task]:
    """Draft, submit (leader1 countersigns, the mayor signs off) and approve up to the
    seal step: the document is signed off and numbered; the custodian's seal task is open."""
    document = create_draft(
        user("clerk"),
        direction="outgoing",
        title=title,
        doc_type="notice",
        urgency="normal",
        body=[
            {"level": 0, "text": "各区县人民政府，市政府各部门："},
            {"level": 1, "text": "一、高度重视安全生产工作"},
            {"level": 0, "text": "各单位要认真落实安全生产责任制。"},
        ],
        main_recipients="各区县人民政府",
    )
    template = WorkflowTemplate.objects.get(name="市政府办公室发文", is_active=True)
    actions.submit(
        document.pk,
        user("clerk"),
        template.pk,
        {"countersigners": [user("leader1").pk], "sign_off_by": user("mayor").pk},
    )
    for name in ("director", "leader1", "mayor"):
        actions.approve(open_task(name, document).pk, user(name))
    document.refresh_from_db()
    assert document.doc_number
    return document, open_task("custodian", document)


def otp(username: str = "custodian", ahead: int = 1) -> str:
    """A TOTP code ``ahead`` steps after now (a login may have used the current step)."""
    totp = pyotp.TOTP(user(username).totp_secret)
    return totp.generate_otp(totp.timecode(timezone.now()) + ahead)
