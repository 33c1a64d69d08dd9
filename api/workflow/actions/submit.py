"""Submitting a document into a workflow: the template and the drafter's choices.

Docs: docs/workflow.md#actions. Locking and refusals: api/workflow/actions/locking.py.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import User
from api.accounts.roles import has_role, is_member_of
from api.audit.recorder import record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict, Forbidden
from api.common.i18n import REQUIRED, Msg
from api.workflow import engine, routing, time_limits
from api.workflow.actions.locking import (
    _refuse,
)
from api.workflow.engine import Ctx
from api.workflow.models import (
    MULTI_KINDS,
    AssigneeKind,
    InstanceState,
    StepKind,
    WorkflowInstance,
    WorkflowTemplate,
)

SUBMITTABLE = ("draft", "withdrawn", "returned")


def submit(
    document_id: int, actor: User, template_id: int, participants: dict[str, Any]
) -> WorkflowInstance:
    """Start the document on ``template_id`` with the drafter's choices
    (``participants``: choice_key → user id or list of ids; ``recipients``: unit ids)."""
    from api.documents.actions import set_status
    from api.documents.content_guard import (
        refuse_if_content_classified,
        unchanged_since_check,
    )
    from api.documents.models import Document
    from api.documents.selectors import document_or_404

    seen = document_or_404(actor, document_id)
    if not _may_submit(actor, seen):
        record_denied("workflow.submit", actor=actor, obj=seen)
        raise Forbidden("not_drafter")
    # The classification guard on content: body paragraphs and attachment text
    # (docs/documents.md#classification-markings-in-content); audited when refused.
    checked = refuse_if_content_classified(actor, seen)
    with transaction.atomic():
        # Only the document row (not its unit: a draft being created in that unit takes a
        # key-share lock on it — the old draft/submit deadlock). docs/workflow.md#lock-order
        document = (
            Document.objects.select_for_update(of=("self",), no_key=True)
            .select_related("unit")
            .get(pk=document_id)
        )
        if document.status not in SUBMITTABLE:
            raise Conflict("document_not_submittable", extra={"status": document.status})
        unchanged_since_check(document, checked)  # no attachment slipped in meanwhile
        if WorkflowInstance.objects.filter(document=document, state=InstanceState.RUNNING).exists():
            raise Conflict("workflow_already_running")
        template = _usable_template(template_id, document)
        steps = [s.snapshot() for s in template.steps.all().order_by("order")]
        chosen = _participants(steps, participants or {}, document)
        now = timezone.now()
        instance = WorkflowInstance.objects.create(
            document=document,
            template=template,
            steps=steps,
            participants=chosen,
            started_by=actor,
            started_at=now,
        )
        instance.document = document
        ctx = Ctx(actor=actor, now=now)
        set_status(document, "in_progress")
        # The document's overall limit starts now, or resumes with what was left
        # (docs/workflow.md#document-time-limits); step deadlines are capped by it.
        time_limits.start_or_resume(document, steps, chosen, now)
        engine.open_step(instance, engine.first_step(instance), ctx, sender=actor, opener=None)
        ctx.events.insert(
            0,
            (
                "workflow.submitted",
                {
                    "actor": actor,
                    "obj": document,
                    "detail": {
                        "instance_id": instance.pk,
                        "template_id": template.pk,
                        "template_version": template.version,
                        "participants": chosen,
                        "time_limit_days": float(document.time_limit_days or 0),
                        "due_at": client_datetime(document.due_at),
                    },
                },
            ),
        )
        ctx.flush()
        return instance


def _may_submit(actor: User, document: Any) -> bool:
    if document.drafter_id == actor.pk:
        return True
    return has_role(actor, "clerk") and is_member_of(actor, document.unit)


def _usable_template(template_id: int, document: Any) -> WorkflowTemplate:
    template = (
        WorkflowTemplate.objects.select_related("unit")
        .filter(pk=template_id if isinstance(template_id, int) else 0, is_active=True)
        .first()
    )
    usable = (
        template is not None
        and document.unit.path.startswith(template.unit.path)
        and template.direction == document.direction
        and (not template.doc_types or document.doc_type in template.doc_types)
    )
    if not usable or template is None:
        raise _refuse("template_not_usable", fields={"template": [str(template_id)]})
    return template


def _ids(value: Any) -> list[int] | None:
    if value is None or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        return None
    return list(dict.fromkeys(items))


def _no_countersigner_signs_off(
    choice_steps: dict[str, list[dict]], chosen: dict[str, list[int]]
) -> None:
    """会签 is other leaders' agreement before the one who signs off (签发): the signer
    countersigning their own sign-off would be a second signature by the same hand."""

    def people(kind: str) -> dict[int, str]:
        return {
            person: key
            for key, key_steps in choice_steps.items()
            if any(s["kind"] == kind for s in key_steps)
            for person in chosen.get(key, [])
        }

    signers = people(StepKind.SIGN_OFF)
    both = sorted(set(people(StepKind.COUNTERSIGN)) & set(signers))
    if both:
        raise _refuse(
            "countersigner_signs_off",
            fields={signers[both[0]]: [str(person) for person in both]},
        )


def _participants(steps: list[dict], given: dict[str, Any], document: Any) -> dict[str, Any]:
    """Validate the drafter's choices against the template: every required choice
    made, one person for single-person steps, everyone active and within the
    document's routing scope (routing.scope_root)."""
    if not isinstance(given, dict):
        raise ApiError(
            "validation_error", fields={"participants": [Msg("须为对象。", "Must be an object.")]}
        )
    choice_steps: dict[str, list[dict]] = {}
    for step in steps:
        if step["assignee_kind"] == AssigneeKind.DRAFTER_CHOICE:
            choice_steps.setdefault(step["choice_key"], []).append(step)
    unknown = sorted(set(given) - set(choice_steps) - {"recipients"})
    if unknown:
        raise ApiError(
            "unknown_field",
            fields={k: [Msg("未知的参与人键。", "Unknown participant key.")] for k in unknown},
        )
    chosen: dict[str, Any] = {}
    errors: dict[str, list[Msg]] = {}
    for key, key_steps in choice_steps.items():
        ids = _ids(given.get(key))
        if ids is None:
            errors[key] = [Msg("须为人员编号或其列表。", "A user id or a list of user ids.")]
            continue
        if not ids and any(s.get("required", True) for s in key_steps):
            errors[key] = [REQUIRED]
            continue
        if len(ids) > 1 and any(s["kind"] not in MULTI_KINDS for s in key_steps):
            errors[key] = [Msg("只能选择一人。", "Exactly one person.")]
            continue
        chosen[key] = ids
    if errors:
        raise _refuse("participants_missing", fields=errors)
    _no_countersigner_signs_off(choice_steps, chosen)
    wanted = {i for ids in chosen.values() for i in ids}
    users = {u.pk: u for u in User.objects.select_related("unit").filter(pk__in=wanted)}
    root = routing.scope_root(document.unit)
    outside = sorted(
        i
        for i in wanted
        if i not in users or not users[i].is_active or not users[i].unit.path.startswith(root.path)
    )
    if outside:
        raise _refuse(
            "participant_out_of_scope", fields={"participants": [str(i) for i in outside]}
        )
    recipients = _ids(given.get("recipients"))
    if recipients is None:
        raise ApiError(
            "validation_error",
            fields={"recipients": [Msg("须为单位编号的列表。", "A list of unit ids.")]},
        )
    if recipients:
        from api.accounts.models import Unit

        known = set(Unit.objects.filter(pk__in=recipients).values_list("pk", flat=True))
        if known != set(recipients):
            raise ApiError(
                "validation_error", fields={"recipients": [Msg("单位不存在。", "Unknown unit.")]}
            )
        chosen["recipients"] = recipients
    return chosen
