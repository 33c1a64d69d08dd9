"""Moves of a whole document's flow: withdraw, an admin's move to another step,
ending a circulation.

Docs: docs/workflow.md#actions. Each runs through ``_on_document`` (api/workflow/
actions/locking.py): the running instance locked, audit last.
"""

from __future__ import annotations

from api.accounts.models import User
from api.accounts.roles import can_manage_unit
from api.audit.recorder import record_denied
from api.common.errors import Conflict, Forbidden
from api.common.i18n import REQUIRED
from api.workflow import engine, rules
from api.workflow.actions.locking import (
    _Denied,
    _end_instance,
    _on_document,
    _refuse,
)
from api.workflow.engine import Ctx
from api.workflow.models import (
    InstanceState,
    StepKind,
    WorkflowInstance,
)


def end_circulation(document_id: int, actor: User) -> WorkflowInstance:
    """The person who started the circulation ends it: unread copies are cancelled
    (they stay in the trail as cancelled) and the flow moves on."""

    def work(instance: WorkflowInstance, ctx: Ctx) -> WorkflowInstance:
        step = instance.step(instance.current_step_order) or {}
        if step.get("kind") != StepKind.CIRCULATE:
            raise _refuse("not_circulation_step")
        if actor.pk not in (instance.step_sender_id, instance.started_by_id):
            raise _Denied("not_sender")
        tasks = engine.round_tasks(instance)
        cancelled = engine.cancel_live(tasks, ctx, "circulation_ended")
        ctx.event(
            "workflow.circulation_ended",
            actor=actor,
            obj=instance.document,
            detail={"instance_id": instance.pk, "cancelled": cancelled},
        )
        engine.open_step(
            instance,
            engine.next_step(instance, step["order"]),
            ctx,
            sender=actor,
            opener=None,
        )
        return instance

    return _on_document("workflow.end_circulation", document_id, actor, work)


def withdraw(document_id: int, actor: User) -> WorkflowInstance:
    """撤回 by the person whose action opened the current step, while that step is
    untouched (no task of it acted on — approved, returned, transferred or
    acknowledged; reading does not count). After submit the whole instance is
    withdrawn (the drafter may edit and submit again); later the sender's own step
    reopens for them. A withdrawal never crosses an automatic step."""

    def work(instance: WorkflowInstance, ctx: Ctx) -> WorkflowInstance:
        tasks = engine.round_tasks(instance)
        code = rules.withdraw_refusal(instance, actor, tasks)
        if code == "not_sender":
            raise _Denied(code)
        if code:
            raise Conflict(code)
        cancelled = engine.cancel_live(tasks, ctx, "withdrawn")
        opener = instance.step_opener
        if opener is None:
            _end_instance(instance, ctx, InstanceState.WITHDRAWN, "withdrawn", cancelled=cancelled)
            return instance
        step = instance.step(opener.step_order) or {}
        ctx.event(
            "workflow.step_withdrawn",
            actor=actor,
            on_behalf_of=opener.on_behalf_of,
            obj=instance.document,
            detail={
                "instance_id": instance.pk,
                "from_step": instance.current_step_order,
                "to_step": opener.step_order,
                "cancelled": cancelled,
            },
        )
        sender = opener.sender
        grand_opener = opener.opened_by
        instance.round += 1
        instance.current_step_order = step["order"]
        instance.step_sender = sender
        instance.step_opener = grand_opener
        instance.save(update_fields=["round", "current_step_order", "step_sender", "step_opener"])
        engine.create_task(
            instance,
            step,
            engine.principal_of(opener),
            ctx,
            sender=sender,
            opened_by=grand_opener,
        )
        return instance

    return _on_document("workflow.withdraw", document_id, actor, work)


def admin_move(document_id: int, actor: User, to_step_order: int, reason: str) -> WorkflowInstance:
    """A unit admin of the document's unit moves it to another step: open and
    waiting tasks are cancelled (kept in the trail, with any opinion), the target
    step opens for its people. Opinions already given are never touched."""
    from api.documents.models import Document
    from api.documents.selectors import document_or_404

    document_or_404(actor, document_id)
    document = Document.objects.select_related("unit").get(pk=document_id)
    if not can_manage_unit(actor, document.unit):
        record_denied("workflow.admin_move", actor=actor, obj=document)
        raise Forbidden("permission_denied")
    text = (reason or "").strip()
    if not text:
        raise _refuse("reason_required", fields={"reason": [REQUIRED]})

    def work(instance: WorkflowInstance, ctx: Ctx) -> WorkflowInstance:
        step = instance.step(to_step_order) if isinstance(to_step_order, int) else None
        if step is None:
            raise _refuse("step_not_found", fields={"to_step_order": [str(to_step_order)]})
        cancelled = engine.cancel_live(engine.round_tasks(instance), ctx, "admin_moved")
        ctx.event(
            "workflow.admin_moved",
            actor=actor,
            obj=instance.document,
            detail={
                "instance_id": instance.pk,
                "from_step": instance.current_step_order,
                "to_step": step["order"],
                "reason": text,
                "cancelled": cancelled,
            },
        )
        engine.open_step(instance, step, ctx, sender=None, opener=None)
        return instance

    return _on_document("workflow.admin_move", document_id, actor, work)
