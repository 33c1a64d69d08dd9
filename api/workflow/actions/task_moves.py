"""What a person does with a task: approve (and seal, batch), acknowledge a
circulation, return, transfer, add a countersigner, mark it read.

Docs: docs/workflow.md#actions. Each runs through ``_on_task`` (api/workflow/actions/
locking.py): instance then task locked, audit last, ``tasks_opened`` after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import ApiError, Conflict
from api.common.i18n import REQUIRED, Msg, one_of
from api.workflow import engine, routing, rules
from api.workflow.actions.locking import (
    _audit,
    _Denied,
    _end_instance,
    _on_task,
    _opinion,
    _refuse,
    _require_open,
)
from api.workflow.engine import Ctx
from api.workflow.models import (
    Direction,
    InstanceState,
    StepKind,
    Task,
    TaskState,
    WorkflowInstance,
)
from api.workflow.signals import reply_given, returned_to_sender, send_in_action, task_read

BATCH_LIMIT = 100

RETURN_TARGETS = ("previous", "drafter", "sender")


def approve(
    task_id: int,
    actor: User,
    opinion: str = "",
    *,
    confirm: Callable[[Task], str] | None = None,
) -> Task:
    """Agree (同意) — one tap: an empty opinion takes the step's standard opinion. On a
    circulation step this is the read acknowledgement. A distribute (分发) step is
    refused (409 ``dispatch_required``, recorded): it is completed by the exchange
    dispatch (``distribute_step``), so its 已分发 is always backed by a dispatch.

    ``confirm`` is a step-up check (api/workflow/step_up.py): it runs inside
    this transaction after the locks and the other refusals, raises to refuse (the
    approval rolls back) and returns how the actor confirmed (``Task.confirmed_with``)."""
    return _approve(task_id, actor, opinion, batch=False, confirm=confirm)


def _record_dispatch_required(task_id: int, actor: User, action: str) -> None:
    """The refused attempt to complete a distribute step without a dispatch, recorded
    after the action's transaction rolled back (so the record stays)."""
    record_denied(
        action,
        actor=actor,
        object_type="workflow.task",
        object_id=task_id,
        detail={"reason": "dispatch_required"},
    )


def _approve(
    task_id: int,
    actor: User,
    opinion: str,
    *,
    batch: bool,
    confirm: Callable[[Task], str] | None = None,
) -> Task:
    text = _opinion(opinion)

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if batch and not task.batchable:
            raise _refuse("not_batchable")
        if task.step_kind == StepKind.SEAL:  # sealed only through seal_step (用印)
            raise Conflict("seal_required")
        if task.step_kind == StepKind.DISTRIBUTE:  # only through distribute_step (分发)
            raise Conflict("dispatch_required")
        if confirm is not None:
            task.confirmed_with = confirm(task)
            task.save(update_fields=["confirmed_with"])
        if task.step_kind == StepKind.CIRCULATE:
            return _acknowledge(task, instance, ctx, text)
        step = instance.step(task.step_order) or {}
        if task.step_kind == StepKind.NUMBER:
            task.detail = {**task.detail, **engine.perform_step_effect(instance, step, actor)}
            task.save(update_fields=["detail"])
        engine.close_task(
            task,
            ctx,
            state=TaskState.DONE,
            action="approve",
            opinion=text or step.get("standard_opinion") or "",
        )
        _audit(ctx, "task.approved", task, **task.detail, **_confirmation(task))
        approved = ctx.events[-1][1]["detail"]
        rules.remember_round(instance, engine.after_done(instance, task, ctx))
        if task.step_kind == StepKind.REPLY and instance.document.direction == Direction.INCOMING:
            # 答复: the exchange sends the reply back to the sending unit (when the
            # document came through it), in this transaction — last, after every row
            # of the flow (the instance, tasks, the document's status) was written,
            # since the exchange's receiver locks the receipt and audits (lock order).
            sent = send_in_action(
                reply_given, task=task, text=task.opinion, actor=actor, now=ctx.now
            )
            if sent:
                task.detail = {**task.detail, **sent}
                task.save(update_fields=["detail"])
                approved.update(sent)
        return task

    try:
        return _on_task("task.approve", task_id, actor, work, with_round=True)
    except Conflict as refused:
        if refused.code == "dispatch_required":
            _record_dispatch_required(task_id, actor, "task.approve")
        raise


def _confirmation(task: Task) -> dict[str, str]:
    """The audit detail's note of a step-up (absent when there was none)."""
    return {"confirmed_with": task.confirmed_with} if task.confirmed_with else {}


def seal_step(
    task_id: int, actor: User, apply: Callable[[Task, WorkflowInstance], dict[str, Any]]
) -> Task:
    """Complete an open seal step (用印) with the opinion "已用印". ``apply`` (the seal
    itself: api/seals/actions.py ``seal_task``) runs inside this transaction, after the
    locks and the assignee check, so the seal, the sealed PDF and the closed task commit
    together or not at all. Plain approve refuses a seal step (409 ``seal_required``)."""

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if task.step_kind != StepKind.SEAL:
            raise _refuse("not_seal_step")
        task.detail = {**task.detail, **apply(task, instance)}
        task.save(update_fields=["detail"])
        engine.close_task(task, ctx, state=TaskState.DONE, action="approve", opinion="已用印")
        _audit(ctx, "task.approved", task, **task.detail)
        rules.remember_round(instance, engine.after_done(instance, task, ctx))
        return task

    return _on_task("task.seal", task_id, actor, work, with_round=True)


def distribute_step(
    task_id: int, actor: User, send: Callable[[Task, WorkflowInstance], dict[str, Any]]
) -> Task:
    """Complete an open distribute step (分发) by dispatching the document: ``send``
    (api/exchange/actions.py ``distribute_task``) runs inside this transaction after
    the locks and the assignee check and returns the dispatch's record (at least
    ``dispatch_id``), so the dispatch and the closed task ("已分发") commit together
    or not at all. Plain approve refuses a distribute step (409 ``dispatch_required``)."""

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if task.step_kind != StepKind.DISTRIBUTE:
            raise _refuse("not_distribute_step")
        sent = send(task, instance)
        if not sent.get("dispatch_id"):
            raise Conflict("dispatch_required")
        task.detail = {**task.detail, **sent}
        task.save(update_fields=["detail"])
        step = instance.step(task.step_order) or {}
        engine.close_task(
            task,
            ctx,
            state=TaskState.DONE,
            action="approve",
            opinion=step.get("standard_opinion") or "已分发",
        )
        _audit(ctx, "task.approved", task, **task.detail)
        rules.remember_round(instance, engine.after_done(instance, task, ctx))
        return task

    return _on_task("task.distribute", task_id, actor, work, with_round=True)


def acknowledge(task_id: int, actor: User) -> Task:
    """Read acknowledgement of a circulation (传阅 已阅)."""

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if task.step_kind != StepKind.CIRCULATE:
            raise _refuse("not_circulation_step")
        return _acknowledge(task, instance, ctx, "")

    return _on_task("task.acknowledge", task_id, actor, work)


def _acknowledge(task: Task, instance: WorkflowInstance, ctx: Ctx, text: str) -> Task:
    step = instance.step(task.step_order) or {}
    engine.close_task(
        task,
        ctx,
        state=TaskState.DONE,
        action="acknowledge",
        opinion=text or step.get("standard_opinion") or "已阅",
    )
    _audit(ctx, "task.acknowledged", task, **_confirmation(task))
    engine.after_done(instance, task, ctx)
    return task


def return_task(task_id: int, actor: User, opinion: str, to: str = "previous") -> Task:
    """退回 with a reason: to the previous step's people (or to the drafter when there
    is none), to the drafter, or — incoming documents only — to the sending unit.
    The returning task's deadline clock pauses until the document comes back."""
    text = _opinion(opinion)
    if not text:
        raise _refuse("opinion_required", fields={"opinion": [REQUIRED]})
    if to not in RETURN_TARGETS:
        raise _refuse("return_target_invalid", fields={"to": list(RETURN_TARGETS)})

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if task.step_kind == StepKind.CIRCULATE:
            raise _refuse("circulation_step")
        if to == "sender" and instance.document.direction != Direction.INCOMING:
            raise _refuse("return_target_invalid", fields={"to": [one_of(["previous", "drafter"])]})
        previous = (
            engine.previous_human_step(instance, task.step_order) if to == "previous" else None
        )
        engine.close_task(task, ctx, state=TaskState.RETURNED, action="return", opinion=text)
        engine.cancel_live(engine.round_tasks(instance), ctx, "cancelled_by_return")
        target = "previous" if previous else ("sender" if to == "sender" else "drafter")
        _audit(ctx, "task.returned", task, to=target)
        returned = ctx.events[-1][1]["detail"]
        if previous:
            step, people = previous
            engine.open_step(instance, step, ctx, sender=actor, opener=task, principals=people)
        else:
            _end_instance(instance, ctx, InstanceState.RETURNED, "returned", to=target)
        if target == "sender":
            # 退文 from the incoming flow (e.g. 初审): the sending unit's receipt says
            # returned, with the reason (api/exchange/receivers.py), in this transaction
            # — last, after the flow's rows, since the receiver locks the receipt and
            # audits (lock order).
            told = send_in_action(
                returned_to_sender, task=task, reason=text, actor=actor, now=ctx.now
            )
            if told:
                task.detail = {**task.detail, **told}
                task.save(update_fields=["detail"])
                returned.update(told)
        return task

    return _on_task("task.return", task_id, actor, work)


# --- transfer and add countersigner ------------------------------------------------------------


def _target_user(user_id: Any, instance: WorkflowInstance) -> User:
    user = None
    if isinstance(user_id, int) and not isinstance(user_id, bool) and 0 < user_id < 2**63:
        user = User.objects.select_related("unit").filter(pk=user_id).first()
    if user is None or not routing.in_scope(user, instance.document.unit):
        raise _refuse("participant_out_of_scope", fields={"user": [str(user_id)]})
    return user


def transfer(task_id: int, actor: User, to_user_id: int, opinion: str = "") -> Task:
    """转交: hand my open task to someone in the document's routing scope. The new task
    shows from=me and keeps the step's deadline."""
    text = _opinion(opinion)

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if task.step_kind == StepKind.CIRCULATE:
            raise _refuse("circulation_step")
        target = _target_user(to_user_id, instance)
        if target.pk == actor.pk or target.pk == engine.principal_of(task).pk:
            raise _refuse("transfer_to_self")
        _not_in_round(instance, [target])
        engine.close_task(task, ctx, state=TaskState.TRANSFERRED, action="transfer", opinion=text)
        step = instance.step(task.step_order) or {}
        new = engine.create_task(
            instance,
            step,
            target,
            ctx,
            position=task.position,
            sender=actor,
            opened_by=task.opened_by,
            due_at=task.due_at,
        )
        _audit(ctx, "task.transferred", task, new_task_id=new.pk, to_user_id=target.pk)
        return new

    return _on_task("task.transfer", task_id, actor, work)


def _not_in_round(instance: WorkflowInstance, users: list[User]) -> None:
    ids = {u.pk for u in users}
    for other in engine.round_tasks(instance):
        if other.state in (TaskState.OPEN, TaskState.WAITING, TaskState.DONE) and (
            other.assignee_id in ids or other.on_behalf_of_id in ids
        ):
            raise _refuse("already_assigned", fields={"user": [str(engine.principal_of(other).pk)]})


def _not_the_signer(instance: WorkflowInstance, targets: list[User]) -> None:
    """The person the drafter chose to sign off (签发) is never added as a countersigner
    (the same rule as at submission, docs/workflow.md#submit)."""
    signers = {
        person
        for step in instance.steps
        if step.get("kind") == StepKind.SIGN_OFF and step.get("choice_key")
        for person in instance.participants.get(step["choice_key"], [])
    }
    both = sorted(u.pk for u in targets if u.pk in signers)
    if both:
        raise _refuse("countersigner_signs_off", fields={"user_ids": [str(i) for i in both]})


def add_countersigner(
    task_id: int, actor: User, user_ids: list[int], opinion: str = ""
) -> list[Task]:
    """加签: add people to the current countersign step — by a countersigner holding an
    open task of it, or by whoever sent the document to it. Parallel and any-one
    steps open the new tasks at once; a sequential step queues them at the end."""
    _opinion(opinion)
    if not isinstance(user_ids, list) or not user_ids or len(user_ids) > 20:
        raise ApiError(
            "validation_error",
            fields={"user_ids": [Msg("须为 1–20 个人员编号的列表。", "A list of 1–20 user ids.")]},
        )

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> list[Task]:
        if task.step_kind != StepKind.COUNTERSIGN:
            raise _refuse("not_countersign_step")
        if task.round != instance.round or instance.state != InstanceState.RUNNING:
            raise Conflict("task_not_open", extra={"state": task.state})
        is_holder = task.assignee_id == actor.pk and task.state == TaskState.OPEN
        if not is_holder and actor.pk not in (instance.step_sender_id, instance.started_by_id):
            if task.assignee_id == actor.pk:
                raise Conflict("task_not_open", extra={"state": task.state})
            raise _Denied("not_sender")
        targets = [_target_user(i, instance) for i in dict.fromkeys(user_ids)]
        _not_in_round(instance, targets)
        _not_the_signer(instance, targets)
        step = instance.step(task.step_order) or {}
        tasks = engine.round_tasks(instance)
        sequential = step.get("countersign_mode") == "sequential"
        live = [t for t in tasks if t.state in engine.LIVE_STATES]
        position = max((t.position for t in tasks), default=0) + 1
        created = []
        for offset, person in enumerate(targets):
            created.append(
                engine.create_task(
                    instance,
                    step,
                    person,
                    ctx,
                    people=len(tasks) + len(targets),
                    position=position + offset,
                    waiting=sequential and bool(live or offset),
                    sender=actor,
                    opened_by=task.opened_by,
                )
            )
        _audit(
            ctx,
            "task.countersigner_added",
            task,
            user_ids=[u.pk for u in targets],
            new_task_ids=[t.pk for t in created],
        )
        return created

    return _on_task("task.add_countersigner", task_id, actor, work, allow_sender=True)


# --- batch -----------------------------------------------------------------------------------


def batch_approve(task_ids: list[int], actor: User) -> list[dict[str, Any]]:
    """Approve up to 100 tasks with their standard opinions; only tasks of batchable
    steps. Each item runs in its own transaction and reports its own result, so one
    refusal does not undo the others."""
    if not isinstance(task_ids, list) or not task_ids:
        raise ApiError(
            "validation_error", fields={"task_ids": [Msg("须为非空列表。", "A non-empty list.")]}
        )
    if len(task_ids) > BATCH_LIMIT:
        raise _refuse("batch_too_large", extra={"limit": BATCH_LIMIT})
    results: list[dict[str, Any]] = []
    for task_id in dict.fromkeys(task_ids):
        try:
            _approve(task_id, actor, "", batch=True)
            results.append({"task_id": task_id, "ok": True})
        except ApiError as error:
            results.append(
                {
                    "task_id": task_id,
                    "ok": False,
                    "code": error.code,
                    "message": error.message or _message(error.code),
                }
            )
    return results


def _message(code: str) -> str:
    from api.common.errors import message_for

    return message_for(code)


# --- reading ---------------------------------------------------------------------------------


def mark_read(task_id: int, actor: User) -> bool:
    """The assignee opened the task (read_at; for the unread badge), which also marks
    the notifications about it read and so stops their reminder ladder
    (docs/notifications.md). Compare-and-set, not audited: reading is not an action on
    the document's flow."""
    now = timezone.now()
    task_read.send(sender=Task, user=actor, task_id=task_id, now=now)
    return bool(
        Task.objects.filter(pk=task_id, assignee=actor, read_at__isnull=True).update(read_at=now)
    )
