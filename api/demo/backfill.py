"""DEMO ONLY: documents submitted in the past, so the time-limit rules can be seen on
the running demo. Docs: docs/demo.md#backfilled-documents.

The demo runs on the real clock, and the rules of 限时办结 (docs/workflow.md#document-
time-limits) are about moments a newcomer cannot wait for: a notice submitted at 17:00
on the Friday before 清明, four leaders countersigning in turn over three days. So, as
an import of last spring's documents would, ``seed_backfill()`` (``manage.py seed_demo
--backfill``, which ``make demo`` runs) creates them with the product's own actions —
draft, submit, approve, and the periodic overdue scan — each at its moment in the
past (``django.utils.timezone.now`` is set to that moment while the action runs). The
due times are therefore the ones the product computed then; ``scripts/demo_rules.py``
reads them over HTTP and checks them against its own computation from
``GET /api/v1/calendar/``.

* ``ORDINARY``: an ordinary (1 working day) notice submitted Fri 3 Apr 2026 17:00;
  清明 (4–6 Apr) is off, so it is due Tue 7 Apr 17:00; 核稿, 会签 and 签发 are done
  on Tue morning, 编号 follows, and 用印 is left open with the custodian.
* ``LATE``: another ordinary notice of Fri 3 Apr 17:00 that the director never
  reviewed; the overdue scan runs at Tue 7 Apr 18:00 — twice — and marks it once.
* ``SEQUENTIAL``: submitted Mon 13 Apr 09:00 on the sequential-countersign template
  below, countersigned in turn by leader1, leader2, leader3 (late) and deputy1, whose
  turns share the document's 3 working days; 签发 is left open with the mayor.

Idempotent: a scenario whose document (title, drafted by ``clerk``) exists is left
alone. The documents stay open: their tasks are past due on today's clock, as a
backfilled running document would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from unittest import mock

from django.conf import settings

from api.accounts.models import Post, Unit, User
from api.documents.actions import create_draft
from api.documents.models import Document
from api.workdays.deadlines import TZ
from api.workflow import actions as workflow
from api.workflow.models import TaskState, TemplateStep, WorkflowTemplate
from api.workflow.time_limits import mark_overdue

SEQUENTIAL_TEMPLATE = "市政府办公室发文（顺序会签）"
OUTGOING_TEMPLATE = "市政府办公室发文"
DRAFTER = "clerk"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    template: str
    submitted: str  # Asia/Shanghai wall time
    countersigners: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]  # (who approves their open task, when)
    overdue_scans: tuple[str, ...] = ()


ORDINARY = Scenario(
    "ordinary",
    "关于做好2026年清明节假期值班工作的通知",
    OUTGOING_TEMPLATE,
    "2026-04-03 17:00",
    ("leader1",),
    (
        ("director", "2026-04-07 09:00"),
        ("leader1", "2026-04-07 10:00"),
        ("mayor", "2026-04-07 11:00"),
    ),
)
LATE = Scenario(
    "late",
    "关于开展2026年春季防汛安全检查的通知",
    OUTGOING_TEMPLATE,
    "2026-04-03 17:00",
    ("leader1",),
    (),
    overdue_scans=("2026-04-07 18:00", "2026-04-07 18:05"),
)
SEQUENTIAL = Scenario(
    "sequential",
    "关于印发新城市2026年重点工作任务分工方案的通知",
    SEQUENTIAL_TEMPLATE,
    "2026-04-13 09:00",
    ("leader1", "leader2", "leader3", "deputy1"),
    (
        ("leader1", "2026-04-13 15:00"),
        ("leader2", "2026-04-14 13:00"),
        ("leader3", "2026-04-15 12:00"),
        ("deputy1", "2026-04-15 20:00"),
    ),
)
SCENARIOS = (ORDINARY, LATE, SEQUENTIAL)

SEQUENTIAL_STEPS: tuple[dict[str, Any], ...] = (
    {
        "kind": "countersign",
        "name": "会签",
        "assignee_kind": "drafter_choice",
        "choice_key": "countersigners",
        "countersign_mode": "sequential",
        "standard_opinion": "同意",
    },
    {
        "kind": "sign_off",
        "name": "签发",
        "assignee_kind": "drafter_choice",
        "choice_key": "sign_off_by",
        "standard_opinion": "同意",
    },
    {"kind": "number", "name": "编号", "assignee_kind": "auto"},
    {
        "kind": "seal",
        "name": "用印",
        "assignee_kind": "post",
        "post": "印章管理员",
        "standard_opinion": "已用印",
    },
    {
        "kind": "distribute",
        "name": "分发",
        "assignee_kind": "post",
        "post": "收发文员",
        "standard_opinion": "已分发",
    },
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@contextmanager
def backfill_clock(text: str) -> Iterator[datetime]:
    """The actions inside run as at ``text`` (Asia/Shanghai)."""
    moment = at(text)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def sequential_template(unit: Unit) -> tuple[WorkflowTemplate, bool]:
    """The demo's sequential-countersign template of 市政府办公室 (created once)."""
    template = WorkflowTemplate.objects.filter(
        unit=unit, name=SEQUENTIAL_TEMPLATE, is_active=True
    ).first()
    if template is not None:
        return template, False
    template = WorkflowTemplate.objects.create(
        unit=unit, name=SEQUENTIAL_TEMPLATE, direction="outgoing", doc_types=[]
    )
    for order, spec in enumerate(SEQUENTIAL_STEPS, start=1):
        values = {key: value for key, value in spec.items() if key != "post"}
        post = Post.objects.get(unit=unit, name=spec["post"]) if "post" in spec else None
        TemplateStep.objects.create(template=template, order=order, post=post, **values)
    return template, True


def _run(scenario: Scenario, template: WorkflowTemplate, people: dict[str, User]) -> None:
    clerk = people[DRAFTER]
    with backfill_clock(scenario.submitted):
        document = create_draft(
            clerk,
            direction="outgoing",
            title=scenario.title,
            doc_type="notice",
            urgency="normal",
            body=[
                {"level": 1, "text": "一、提高思想认识"},
                {"level": 0, "text": "请认真贯彻落实。"},
            ],
            main_recipients="各区县人民政府，市政府各部门",
        )
        workflow.submit(
            document.pk,
            clerk,
            template.pk,
            {
                "countersigners": [people[name].pk for name in scenario.countersigners],
                "sign_off_by": people["mayor"].pk,
            },
        )
    for who, moment in scenario.steps:
        with backfill_clock(moment):
            task = document.workflow_tasks.get(assignee=people[who], state=TaskState.OPEN)
            workflow.approve(task.pk, people[who])
    for moment in scenario.overdue_scans:
        with backfill_clock(moment) as now:
            mark_overdue(now)


def seed_backfill() -> dict[str, int]:
    """Create the scenarios that are missing → {"backfilled_documents": n, …}."""
    if settings.PRODUCTION:
        raise RuntimeError("the demo backfill is never seeded in production")
    unit = Unit.objects.filter(code="XC-OFF").first()
    names = {DRAFTER, "director", "mayor", "leader1", "leader2", "leader3", "deputy1"}
    people = {user.username: user for user in User.objects.filter(username__in=names)}
    if unit is None or len(people) != len(names):
        return {}  # not the demo city
    changes = {"backfill_templates_created": 0, "backfilled_documents": 0}
    sequential, created = sequential_template(unit)
    changes["backfill_templates_created"] += int(created)
    templates = {
        SEQUENTIAL_TEMPLATE: sequential,
        OUTGOING_TEMPLATE: WorkflowTemplate.objects.get(
            unit=unit, name=OUTGOING_TEMPLATE, is_active=True
        ),
    }
    for scenario in SCENARIOS:
        if Document.objects.filter(title=scenario.title, drafter=people[DRAFTER]).exists():
            continue
        _run(scenario, templates[scenario.template], people)
        changes["backfilled_documents"] += 1
    return {key: value for key, value in changes.items() if value}
