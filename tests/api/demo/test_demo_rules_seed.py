"""What ``seed_demo`` gives the rule walk-through (scripts/demo_rules.py, docs/demo.md):
every unit whose outgoing flow ends in 分发 can seal (a seal, a custodian, a 用印 step,
an old unsealed template upgraded once), ten people may urge one leader, and
``--backfill`` creates the time-limit scenarios at their moments in the past, once."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.management import call_command

from api.accounts.models import Post, RoleAssignment, User
from api.audit.models import AuditEvent
from api.demo import backfill
from api.documents.models import Document
from api.notify.models import Notification
from api.seals.models import Seal
from api.workdays.deadlines import TZ
from api.workflow.demo_templates import DEMO_TEMPLATES
from api.workflow.models import Task, TemplateStep, WorkflowTemplate

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_every_unit_whose_flow_ends_in_distribution_can_seal():
    seed()
    units = {
        spec["unit"]
        for spec in DEMO_TEMPLATES
        if spec["direction"] == "outgoing" and spec["steps"][-1]["kind"] == "distribute"
    }
    assert units == {"XC-OFF", "XC-FGW"}
    for code in units:
        template = WorkflowTemplate.objects.get(
            unit__code=code, direction="outgoing", is_active=True, name__endswith="发文"
        )
        kinds = list(template.steps.order_by("order").values_list("kind", flat=True))
        assert kinds[-2:] == ["seal", "distribute"], code
        seal_step = template.steps.get(kind="seal")
        custodian = Post.objects.get(pk=seal_step.post_id).holder
        assert RoleAssignment.objects.filter(
            user=custodian, role="seal_custodian", unit__code=code
        ).exists(), code
        assert custodian.has_totp  # seal custodians sign in with a one-time code
        assert Seal.objects.filter(unit__code=code, is_active=True).exists(), code


def test_an_old_unsealed_template_gets_its_seal_step_once():
    seed()
    template = WorkflowTemplate.objects.get(name="市发展和改革委员会发文", is_active=True)
    template.steps.filter(kind="seal").delete()  # as an earlier seed made it
    distribute = template.steps.get(kind="distribute")
    distribute.order = 3
    distribute.save(update_fields=["order"])
    assert "missing_seal_steps_added=1" in seed()
    kinds = list(template.steps.order_by("order").values_list("kind", "name"))
    assert kinds == [
        ("sign_off", "签发"),
        ("number", "编号"),
        ("seal", "用印"),
        ("distribute", "分发"),
    ]
    assert "nothing to change" in seed()
    # a template an admin changed otherwise (no 编号 either) is left alone
    TemplateStep.objects.filter(template=template, kind__in=["seal", "number"]).delete()
    assert "nothing to change" in seed()
    assert not template.steps.filter(kind="seal").exists()


def test_ten_people_may_urge_one_leader():
    seed()
    supervisors = User.objects.filter(
        role_assignments__role="supervisor", role_assignments__unit__code="XC"
    ).distinct()
    assert supervisors.count() >= 10


def test_backfill_creates_the_time_limit_scenarios_once():
    seed()
    assert not Document.objects.filter(title=backfill.ORDINARY.title).exists()
    first = seed("--backfill")
    assert "backfilled_documents=3" in first
    assert "nothing to change" in seed("--backfill")

    ordinary = Document.objects.get(title=backfill.ORDINARY.title)
    assert ordinary.limit_started_at == at("2026-04-03 17:00")
    assert ordinary.due_at == at("2026-04-07 17:00")  # 清明 4–6 April is off
    tasks = list(Task.objects.filter(document=ordinary).exclude(assignee=None).order_by("id"))
    assert [t.step_kind for t in tasks] == ["review", "countersign", "sign_off", "seal"]
    assert {t.due_at for t in tasks} == {ordinary.due_at}
    assert tasks[-1].state == "open" and tasks[-1].assignee.username == "custodian"

    late = Document.objects.get(title=backfill.LATE.title)
    assert late.overdue_at == at("2026-04-07 18:00")
    marked = AuditEvent.objects.filter(action="document.overdue", object_id=str(late.pk))
    assert marked.count() == 1
    told = Notification.objects.filter(dedup_key=f"document_overdue:{late.pk}")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["clerk", "director"]

    sequential = Document.objects.get(title=backfill.SEQUENTIAL.title)
    assert float(sequential.time_limit_days) == 3.0
    assert sequential.due_at == at("2026-04-16 09:00")
    turns = list(
        Task.objects.filter(document=sequential, step_kind="countersign")
        .order_by("id")
        .values_list("assignee__username", "due_at")
    )
    assert turns == [
        ("leader1", at("2026-04-14 03:00")),  # 72 h / 4
        ("leader2", at("2026-04-14 13:00")),  # 66 h / 3
        ("leader3", at("2026-04-15 11:00")),  # 44 h / 2
        ("deputy1", at("2026-04-16 09:00")),  # the rest
    ]
    sign_off = Task.objects.get(document=sequential, step_kind="sign_off")
    assert sign_off.state == "open" and sign_off.due_at == sequential.due_at
