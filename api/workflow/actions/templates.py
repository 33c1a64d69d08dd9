"""Workflow templates: create, update (copy on write when in use), deactivate
(api/workflow/views/templates.py).

Docs: docs/workflow.md#templates-api.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import Post, User
from api.accounts.roles import can_manage_unit
from api.audit.recorder import record_denied
from api.common.errors import Conflict, Forbidden
from api.common.i18n import Msg, length_between, one_of
from api.workflow import routing
from api.workflow.actions.locking import (
    _refuse,
)
from api.workflow.engine import Ctx
from api.workflow.models import (
    AssigneeKind,
    CountersignMode,
    Direction,
    StepKind,
    WorkflowInstance,
    WorkflowTemplate,
)

MAX_STEPS = 20

# Field details of ``template_invalid`` (docs/api.md#languages): each names the key it
# is about, in both languages.
STEP_SHAPE = Msg(
    "每个步骤须为对象，且只含文档列出的键。",
    "Each step is an object with the documented keys only.",
)
KIND_INCOMING_ONLY = Msg("kind：该步骤只用于收文。", "kind: for incoming documents only.")
KIND_OUTGOING_ONLY = Msg("kind：该步骤只用于发文。", "kind: for outgoing documents only.")
AUTO_ONLY_NUMBER = Msg(
    "assignee_kind：只有编号步骤可以自动办理（分发由收发文员发送）。",
    "assignee_kind: auto only for number (a distribute step is a clerk's dispatch).",
)
POST_IN_SCOPE = Msg(
    "post：须为模板所属单位或其下级单位的岗位。", "post: a post of the template's unit or below."
)
USER_IN_SCOPE = Msg(
    "user：须为模板所属单位范围内的在职人员。", "user: an active person in the unit's scope."
)
CHOICE_KEY_CHARS = Msg(
    "choice_key：只能包含字母、数字和下划线，最多 40 个字符。",
    "choice_key: letters, digits and _ (at most 40).",
)
CHOICE_KEY_RESERVED = Msg(
    "choice_key：“recipients”为保留名称。", "choice_key: 'recipients' is reserved."
)
TIME_LIMIT_DAYS = Msg(
    "time_limit_days：须大于 0 且不超过 366。", "time_limit_days: more than 0 and at most 366."
)
INCOMING_ONLY = frozenset({StepKind.SIGN_FOR, StepKind.REGISTER, StepKind.PRELIMINARY_REVIEW})
OUTGOING_ONLY = frozenset({StepKind.NUMBER, StepKind.SEAL, StepKind.SIGN_OFF, StepKind.DISTRIBUTE})
STEP_KEYS = frozenset(
    {
        "kind",
        "name",
        "assignee_kind",
        "post",
        "user",
        "choice_key",
        "required",
        "countersign_mode",
        "standard_opinion",
        "batchable",
        "time_limit_days",
    }
)


def template_in_use(template: WorkflowTemplate) -> bool:
    return WorkflowInstance.objects.filter(template=template).exists()


def _check_manage(actor: User, unit: Any, action: str, obj: Any = None) -> None:
    if not can_manage_unit(actor, unit):
        if obj is not None:
            record_denied(action, actor=actor, obj=obj)
        else:
            record_denied(action, actor=actor, object_type="accounts.unit", object_id=unit.pk)
        raise Forbidden("permission_denied")


def clean_steps(unit: Any, direction: str, steps: Any) -> list[dict[str, Any]]:
    """Validate a template's steps (listed in order); 422 ``template_invalid`` with
    the offending step indexes in ``fields``."""
    if not isinstance(steps, list) or not 0 < len(steps) <= MAX_STEPS:
        raise _refuse(
            "template_invalid",
            fields={"steps": [Msg(f"须有 1–{MAX_STEPS} 个步骤。", f"1–{MAX_STEPS} steps.")]},
        )
    cleaned: list[dict[str, Any]] = []
    errors: dict[str, list[Msg]] = {}
    for index, raw in enumerate(steps):
        problems: list[Msg] = []
        if not isinstance(raw, dict) or set(raw) - STEP_KEYS:
            errors[f"steps[{index}]"] = [STEP_SHAPE]
            continue
        kind = raw.get("kind")
        who = raw.get("assignee_kind")
        step: dict[str, Any] = {
            "order": index + 1,
            "kind": kind,
            "name": str(
                raw.get("name") or (StepKind(kind).label if kind in StepKind.values else "")
            )[:40],
            "assignee_kind": who,
            "post": None,
            "user": None,
            "choice_key": str(raw.get("choice_key") or ""),
            "required": bool(raw.get("required", True)),
            "countersign_mode": raw.get("countersign_mode") or CountersignMode.PARALLEL,
            "standard_opinion": str(raw.get("standard_opinion") or "")[:40],
            "batchable": bool(raw.get("batchable", False)),
            "time_limit_days": raw.get("time_limit_days"),
        }
        if kind not in StepKind.values:
            problems.append(one_of(StepKind.values))
        elif direction == Direction.OUTGOING and kind in INCOMING_ONLY:
            problems.append(KIND_INCOMING_ONLY)
        elif direction == Direction.INCOMING and kind in OUTGOING_ONLY:
            problems.append(KIND_OUTGOING_ONLY)
        if who not in AssigneeKind.values:
            problems.append(one_of(AssigneeKind.values))
        elif who == AssigneeKind.AUTO and kind not in engine_auto_kinds():
            problems.append(AUTO_ONLY_NUMBER)
        elif who == AssigneeKind.POST:
            post_id = raw.get("post")
            post = (
                Post.objects.select_related("unit").filter(pk=post_id).first()
                if isinstance(post_id, int)
                else None
            )
            if post is None or not post.unit.path.startswith(unit.path):
                problems.append(POST_IN_SCOPE)
            step["post"] = post
        elif who == AssigneeKind.USER:
            user_id = raw.get("user")
            person = (
                User.objects.select_related("unit").filter(pk=user_id).first()
                if isinstance(user_id, int)
                else None
            )
            if person is None or not routing.in_scope(person, unit):
                problems.append(USER_IN_SCOPE)
            step["user"] = person
        elif who == AssigneeKind.DRAFTER_CHOICE:
            key = step["choice_key"]
            if not key or not key.replace("_", "").isalnum() or not key.isascii() or len(key) > 40:
                problems.append(CHOICE_KEY_CHARS)
            elif key == "recipients":
                problems.append(CHOICE_KEY_RESERVED)
        if step["countersign_mode"] not in CountersignMode.values:
            problems.append(one_of(CountersignMode.values))
        days = step["time_limit_days"]
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 366
        ):
            problems.append(TIME_LIMIT_DAYS)
        if problems:
            errors[f"steps[{index}]"] = problems
        cleaned.append(step)
    if errors:
        raise _refuse("template_invalid", fields=errors)
    return cleaned


def engine_auto_kinds() -> frozenset[str]:
    from api.workflow.models import AUTO_KINDS

    return frozenset(str(k) for k in AUTO_KINDS)


def _write_steps(template: WorkflowTemplate, steps: list[dict[str, Any]]) -> None:
    from api.workflow.models import TemplateStep

    template.steps.all().delete()
    TemplateStep.objects.bulk_create(TemplateStep(template=template, **step) for step in steps)


def _clean_meta(name: Any, doc_types: Any) -> tuple[str, list[str]]:
    from api.documents.models import DocType

    text = str(name or "").strip()
    if not text or len(text) > 100:
        raise _refuse("template_invalid", fields={"name": [length_between(1, 100)]})
    if not isinstance(doc_types, list) or not all(t in DocType.values for t in doc_types):
        raise _refuse("template_invalid", fields={"doc_types": [one_of(DocType.values)]})
    return text, list(dict.fromkeys(doc_types))


def create_template(
    actor: User,
    *,
    unit: Any,
    name: str,
    direction: str,
    steps: list[dict[str, Any]],
    doc_types: list[str] | None = None,
) -> WorkflowTemplate:
    """A unit admin of ``unit``'s subtree (or a city IT admin) creates a template."""
    _check_manage(actor, unit, "workflow_template.create")
    if direction not in Direction.values:
        raise _refuse("template_invalid", fields={"direction": [one_of(Direction.values)]})
    text, types = _clean_meta(name, doc_types or [])
    cleaned = clean_steps(unit, direction, steps)
    with transaction.atomic():
        now = timezone.now()
        template = WorkflowTemplate.objects.create(
            unit=unit,
            name=text,
            direction=direction,
            doc_types=types,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _write_steps(template, cleaned)
        ctx = Ctx(actor=actor, now=now)
        ctx.event(
            "workflow_template.created",
            actor=actor,
            obj=template,
            detail={"name": text, "direction": direction, "steps": len(cleaned)},
        )
        ctx.flush()
    return template


def update_template(template_id: int, actor: User, changes: dict[str, Any]) -> WorkflowTemplate:
    """Change name, doc_types or steps. A template that documents already used is
    copied on write: a new version replaces it (the old one is deactivated, its steps
    untouched), so no running or finished instance changes under anyone."""
    template = WorkflowTemplate.objects.select_related("unit").get(pk=template_id)
    _check_manage(actor, template.unit, "workflow_template.update", template)
    with transaction.atomic():
        template = (
            WorkflowTemplate.objects.select_for_update(of=("self",))
            .select_related("unit")
            .get(pk=template_id)
        )
        if not template.is_active:
            raise Conflict("conflict", extra={"is_active": False})
        text, types = _clean_meta(
            changes.get("name", template.name), changes.get("doc_types", template.doc_types)
        )
        steps = None
        if "steps" in changes:
            steps = clean_steps(template.unit, template.direction, changes["steps"])
        now = timezone.now()
        copied = template_in_use(template)
        previous = template
        if copied:
            template.is_active = False
            template.updated_at = now
            template.save(update_fields=["is_active", "updated_at"])
            old_steps = [
                {k: v for k, v in s.snapshot().items() if k not in ("post_id", "user_id")}
                | {"post": s.post, "user": s.user}
                for s in previous.steps.select_related("post", "user")
            ]
            template = WorkflowTemplate.objects.create(
                unit=previous.unit,
                name=text,
                direction=previous.direction,
                doc_types=types,
                version=previous.version + 1,
                replaces=previous,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            _write_steps(template, steps if steps is not None else old_steps)
        else:
            template.name = text
            template.doc_types = types
            template.updated_at = now
            template.save(update_fields=["name", "doc_types", "updated_at"])
            if steps is not None:
                _write_steps(template, steps)
        ctx = Ctx(actor=actor, now=now)
        ctx.event(
            "workflow_template.updated",
            actor=actor,
            obj=template,
            detail={
                "template_id": template.pk,
                "replaces": previous.pk if copied else None,
                "version": template.version,
                "changed": sorted(changes),
            },
        )
        ctx.flush()
    return template


def deactivate_template(template_id: int, actor: User) -> WorkflowTemplate:
    """Retire a template: no new submissions; running instances go on (snapshot)."""
    template = WorkflowTemplate.objects.select_related("unit").get(pk=template_id)
    _check_manage(actor, template.unit, "workflow_template.deactivate", template)
    with transaction.atomic():
        template = WorkflowTemplate.objects.select_for_update().get(pk=template_id)
        if template.is_active:
            template.is_active = False
            template.updated_at = timezone.now()
            template.save(update_fields=["is_active", "updated_at"])
            ctx = Ctx(actor=actor, now=template.updated_at)
            ctx.event("workflow_template.deactivated", actor=actor, obj=template)
            ctx.flush()
    return template
