"""Workflow templates of the demo city (docs/demo.md, docs/workflow.md#demo-templates).

``seed_templates()`` is called at the end of ``manage.py seed_demo``; idempotent: a
template is matched by (unit, name) among the active ones and left alone when it
exists, so a unit admin's later edits survive a second seeding — with one exception:
an outgoing template still exactly as an earlier seed made it without the 用印 step
its 分发 needs (市发改委's: 签发, 编号, 分发) gets the 用印 step inserted before 分发
(``missing_seal_steps_added``). Running documents keep their snapshot of the steps.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from api.accounts.models import Post, Unit
from api.workflow.models import TemplateStep, WorkflowTemplate


def _step(kind: str, name: str, who: str, **extra: Any) -> dict[str, Any]:
    """``who``: "post:<name>", "choice:<key>" or "auto"."""
    spec: dict[str, Any] = {"kind": kind, "name": name, **extra}
    if who == "auto":
        spec["assignee_kind"] = "auto"
    elif who.startswith("post:"):
        spec["assignee_kind"] = "post"
        spec["post_name"] = who[5:]
    else:
        spec["assignee_kind"] = "drafter_choice"
        spec["choice_key"] = who[7:]
    return spec


DEMO_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "unit": "XC-OFF",
        "name": "市政府办公室发文",
        "direction": "outgoing",
        "steps": [
            _step("review", "核稿", "post:办公室主任", standard_opinion="同意"),
            _step(
                "countersign",
                "会签",
                "choice:countersigners",
                countersign_mode="parallel",
                standard_opinion="同意",
                batchable=True,
                required=False,
            ),
            _step("sign_off", "签发", "choice:sign_off_by", standard_opinion="同意"),
            _step("number", "编号", "auto"),
            _step("seal", "用印", "post:印章管理员", standard_opinion="已用印"),
            _step("distribute", "分发", "post:收发文员", standard_opinion="已分发"),
        ],
    },
    {
        "unit": "XC-OFF",
        "name": "市政府办公室收文",
        "direction": "incoming",
        "steps": [
            _step("sign_for", "签收", "post:收发文员", standard_opinion="已签收"),
            _step("register", "登记", "post:收发文员", standard_opinion="已登记"),
            _step("preliminary_review", "初审", "post:办公室主任", standard_opinion="同意"),
            _step("handle", "承办", "choice:handler", standard_opinion="已办理"),
            _step(
                "circulate",
                "传阅",
                "choice:readers",
                standard_opinion="已阅",
                batchable=True,
                required=False,
            ),
            _step("reply", "答复", "choice:handler", standard_opinion="已答复"),
        ],
    },
    {
        "unit": "XC-FGW",
        "name": "市发展和改革委员会发文",
        "direction": "outgoing",
        "steps": [
            _step("sign_off", "签发", "post:主任", standard_opinion="同意"),
            _step("number", "编号", "auto"),
            # 分发 dispatches the sealed PDF: without 用印 it could never complete.
            _step("seal", "用印", "post:印章管理员", standard_opinion="已用印"),
            _step("distribute", "分发", "post:收发文员", standard_opinion="已分发"),
        ],
    },
    {
        "unit": "XC-FGW",
        "name": "市发展和改革委员会收文",
        "direction": "incoming",
        "steps": [
            _step("sign_for", "签收", "post:收发文员", standard_opinion="已签收"),
            _step("handle", "承办", "choice:handler", standard_opinion="已办理"),
            _step("reply", "答复", "choice:handler", standard_opinion="已答复"),
        ],
    },
)

STEP_FIELDS = (
    "kind",
    "name",
    "assignee_kind",
    "choice_key",
    "countersign_mode",
    "standard_opinion",
    "batchable",
    "required",
)


# The step kinds of a demo template an earlier seed created without its 用印 step.
UNSEALED_SHAPE = ("sign_off", "number", "distribute")


def add_missing_seal_steps() -> int:
    """Insert the 用印 step before 分发 in each active demo template still in an old,
    unsealed shape (see the module docstring); returns how many were changed."""
    changed = 0
    for spec in DEMO_TEMPLATES:
        wanted = [step["kind"] for step in spec["steps"]]
        template = WorkflowTemplate.objects.filter(
            unit__code=spec["unit"], name=spec["name"], is_active=True
        ).first()
        if template is None:
            continue
        steps = list(template.steps.order_by("order"))
        if tuple(step.kind for step in steps) != UNSEALED_SHAPE or "seal" not in wanted:
            continue
        seal = next(step for step in spec["steps"] if step["kind"] == "seal")
        distribute = steps[-1]
        distribute.order = len(steps) + 1
        distribute.save(update_fields=["order"])
        TemplateStep.objects.create(
            template=template,
            order=len(steps),
            post=Post.objects.get(unit=template.unit, name=seal["post_name"]),
            **{key: seal[key] for key in STEP_FIELDS if key in seal},
        )
        changed += 1
    return changed


def seed_templates() -> int:
    """Create the demo templates that are missing; returns how many were created."""
    created = 0
    with transaction.atomic():
        for spec in DEMO_TEMPLATES:
            unit = Unit.objects.filter(code=spec["unit"]).first()
            if unit is None:
                continue
            if WorkflowTemplate.objects.filter(
                unit=unit, name=spec["name"], is_active=True
            ).exists():
                continue
            template = WorkflowTemplate.objects.create(
                unit=unit, name=spec["name"], direction=spec["direction"], doc_types=[]
            )
            for order, step in enumerate(spec["steps"], start=1):
                values = {key: step[key] for key in STEP_FIELDS if key in step}
                post = None
                if "post_name" in step:
                    post = Post.objects.get(unit=unit, name=step["post_name"])
                TemplateStep.objects.create(template=template, order=order, post=post, **values)
            created += 1
    return created
