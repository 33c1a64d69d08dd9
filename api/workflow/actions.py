"""Every state change of the workflow: submit, approve, return, transfer, add a
countersigner, withdraw, acknowledge a circulation, end it, batch approve, move by
an admin — plus delegation moves (called by api/workflow/receivers.py).

Docs: docs/workflow.md#actions. Each function is one transaction that locks the
instance row first and then the task rows (always in that order, so two actions on
one document never deadlock), writes its audit events last, and sends
``tasks_opened`` after commit. A refusal that hides something (404) is recorded with
``record_denied`` outside the transaction, before the error is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from api.accounts.models import Post, User
from api.accounts.roles import can_manage_unit, has_role, is_member_of
from api.audit.recorder import record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.workflow import engine, routing, rules
from api.workflow.engine import Ctx
from api.workflow.models import (
    MULTI_KINDS,
    AssigneeKind,
    CountersignMode,
    Direction,
    InstanceState,
    StepKind,
    Task,
    TaskState,
    WorkflowInstance,
    WorkflowTemplate,
)

T = TypeVar("T")

BATCH_LIMIT = 100
SUBMITTABLE = ("draft", "withdrawn", "returned")
RETURN_TARGETS = ("previous", "drafter", "sender")
MAX_OPINION = 2000


class _Hidden(Exception):
    """Raised inside a transaction when the object must look absent (404)."""


class _Denied(Exception):
    """Raised inside a transaction for a 403: recorded after the rollback."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _refuse(code: str, status_code: int = 422, **kwargs: Any) -> ApiError:
    return ApiError(code, status_code=status_code, **kwargs)


def _opinion(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_OPINION:
        raise ApiError("validation_error", fields={"opinion": [f"≤ {MAX_OPINION}"]})
    return text


def _hidden(action: str, actor: User, task_id: int) -> NotFound:
    record_denied(action, actor=actor, object_type="workflow.task", object_id=task_id)
    return NotFound()


def _on_task(
    audit_action: str,
    task_id: int,
    actor: User,
    work: Callable[[Task, WorkflowInstance, Ctx], T],
    *,
    allow_sender: bool = False,
    with_round: bool = False,
) -> T:
    """Lock instance then task, check the actor may act on it (assignee, or the
    backup acting for an absent assignee; with ``allow_sender`` also whoever opened
    the step), then run ``work``. Hidden tasks are recorded and answered 404."""
    if not isinstance(task_id, int) or not 0 < task_id < 2**63:
        raise _hidden(audit_action, actor, task_id)
    try:
        with transaction.atomic():
            # The instance lock first (its id read in a subquery: one round trip),
            # then the task with the people the answer shows (only the task row locked).
            instance = (
                WorkflowInstance.objects.select_for_update()
                .select_related("document")
                .filter(pk=Subquery(Task.objects.filter(pk=task_id).values("instance_id")[:1]))
                .first()
            )
            if instance is None:
                raise _Hidden
            rows = None
            if with_round:  # approve: the round too, for after_done (one query)
                task, rows = engine.lock_task_with_round(instance, task_id)
            else:
                task = (
                    Task.objects.select_for_update(of=("self",))
                    .select_related("sender", "on_behalf_of")
                    .get(pk=task_id)
                )
            task.instance = instance
            task.document = instance.document
            if not _may_act(task, actor, instance, allow_sender=allow_sender):
                raise _Hidden
            ctx = Ctx(actor=actor, now=timezone.now(), round_rows=rows)
            result = work(task, instance, ctx)
            ctx.flush()
            return result
    except _Hidden:
        raise _hidden(audit_action, actor, task_id) from None
    except _Denied as denied:
        record_denied(audit_action, actor=actor, object_type="workflow.task", object_id=task_id)
        raise Forbidden(denied.code) from None


def _may_act(task: Task, actor: User, instance: WorkflowInstance, *, allow_sender: bool) -> bool:
    if task.assignee_id == actor.pk:
        return True
    if allow_sender and actor.pk in (instance.step_sender_id, instance.started_by_id):
        return True
    if task.assignee_id is None or task.state not in engine.LIVE_STATES:
        return task.on_behalf_of_id == actor.pk and task.state not in engine.LIVE_STATES
    # The backup acting for an absent assignee takes the task over (B for A).
    assignee = task.assignee
    if assignee is None:
        return False
    acting, behalf = routing.route(assignee)
    if behalf is not None and acting.pk == actor.pk:
        task.on_behalf_of = task.on_behalf_of or assignee
        task.assignee = actor
        return True
    return False


def _require_open(task: Task) -> None:
    if task.state != TaskState.OPEN:
        raise Conflict("task_not_open", extra={"state": task.state})


def _audit(ctx: Ctx, action: str, task: Task, **detail: Any) -> None:
    ctx.event(
        action,
        actor=ctx.actor,
        on_behalf_of=task.on_behalf_of,
        obj=task.document,
        detail={
            "task_id": task.pk,
            "instance_id": task.instance_id,
            "step_order": task.step_order,
            "step_kind": task.step_kind,
            "opinion": task.opinion[:500],
            **detail,
        },
    )


# --- submit -------------------------------------------------------------------------------


def submit(
    document_id: int, actor: User, template_id: int, participants: dict[str, Any]
) -> WorkflowInstance:
    """Start the document on ``template_id`` with the drafter's choices
    (``participants``: choice_key → user id or list of ids; ``recipients``: unit ids)."""
    from api.documents.actions import set_status
    from api.documents.models import Document
    from api.documents.selectors import document_or_404

    seen = document_or_404(actor, document_id)
    if not _may_submit(actor, seen):
        record_denied("workflow.submit", actor=actor, obj=seen)
        raise Forbidden("not_drafter")
    with transaction.atomic():
        document = Document.objects.select_for_update().select_related("unit").get(pk=document_id)
        if document.status not in SUBMITTABLE:
            raise Conflict("document_not_submittable", extra={"status": document.status})
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


def _participants(steps: list[dict], given: dict[str, Any], document: Any) -> dict[str, Any]:
    """Validate the drafter's choices against the template: every required choice
    made, one person for single-person steps, everyone active and within the
    document's routing scope (routing.scope_root)."""
    if not isinstance(given, dict):
        raise ApiError("validation_error", fields={"participants": ["object"]})
    choice_steps: dict[str, list[dict]] = {}
    for step in steps:
        if step["assignee_kind"] == AssigneeKind.DRAFTER_CHOICE:
            choice_steps.setdefault(step["choice_key"], []).append(step)
    unknown = sorted(set(given) - set(choice_steps) - {"recipients"})
    if unknown:
        raise ApiError("unknown_field", fields={k: ["unknown participant key"] for k in unknown})
    chosen: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, key_steps in choice_steps.items():
        ids = _ids(given.get(key))
        if ids is None:
            errors[key] = ["a user id or a list of user ids"]
            continue
        if not ids and any(s.get("required", True) for s in key_steps):
            errors[key] = ["required"]
            continue
        if len(ids) > 1 and any(s["kind"] not in MULTI_KINDS for s in key_steps):
            errors[key] = ["exactly one person"]
            continue
        chosen[key] = ids
    if errors:
        raise _refuse("participants_missing", fields=errors)
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
        raise ApiError("validation_error", fields={"recipients": ["a list of unit ids"]})
    if recipients:
        from api.accounts.models import Unit

        known = set(Unit.objects.filter(pk__in=recipients).values_list("pk", flat=True))
        if known != set(recipients):
            raise ApiError("validation_error", fields={"recipients": ["unknown unit"]})
        chosen["recipients"] = recipients
    return chosen


# --- approve and acknowledge ----------------------------------------------------------------


def approve(
    task_id: int,
    actor: User,
    opinion: str = "",
    *,
    confirm: Callable[[Task], str] | None = None,
) -> Task:
    """Agree (同意) — one tap: an empty opinion takes the step's standard opinion. On a
    circulation step this is the read acknowledgement.

    ``confirm`` is a step-up check (api/accounts/actions/passkeys.py): it runs inside
    this transaction after the locks and the other refusals, raises to refuse (the
    approval rolls back) and returns how the actor confirmed (``Task.confirmed_with``)."""
    return _approve(task_id, actor, opinion, batch=False, confirm=confirm)


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
        if confirm is not None:
            task.confirmed_with = confirm(task)
            task.save(update_fields=["confirmed_with"])
        if task.step_kind == StepKind.CIRCULATE:
            return _acknowledge(task, instance, ctx, text)
        step = instance.step(task.step_order) or {}
        if task.step_kind in (StepKind.NUMBER, StepKind.DISTRIBUTE):
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
        rules.remember_round(instance, engine.after_done(instance, task, ctx))
        return task

    return _on_task("task.approve", task_id, actor, work, with_round=True)


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


# --- return ---------------------------------------------------------------------------------


def return_task(task_id: int, actor: User, opinion: str, to: str = "previous") -> Task:
    """退回 with a reason: to the previous step's people (or to the drafter when there
    is none), to the drafter, or — incoming documents only — to the sending unit.
    The returning task's deadline clock pauses until the document comes back."""
    text = _opinion(opinion)
    if not text:
        raise _refuse("opinion_required", fields={"opinion": ["required"]})
    if to not in RETURN_TARGETS:
        raise _refuse("return_target_invalid", fields={"to": list(RETURN_TARGETS)})

    def work(task: Task, instance: WorkflowInstance, ctx: Ctx) -> Task:
        _require_open(task)
        if task.step_kind == StepKind.CIRCULATE:
            raise _refuse("circulation_step")
        if to == "sender" and instance.document.direction != Direction.INCOMING:
            raise _refuse("return_target_invalid", fields={"to": ["previous", "drafter"]})
        previous = (
            engine.previous_human_step(instance, task.step_order) if to == "previous" else None
        )
        engine.close_task(task, ctx, state=TaskState.RETURNED, action="return", opinion=text)
        engine.cancel_live(engine.round_tasks(instance), ctx, "cancelled_by_return")
        target = "previous" if previous else ("sender" if to == "sender" else "drafter")
        _audit(ctx, "task.returned", task, to=target)
        if previous:
            step, people = previous
            engine.open_step(instance, step, ctx, sender=actor, opener=task, principals=people)
        else:
            _end_instance(instance, ctx, InstanceState.RETURNED, "returned", to=target)
        return task

    return _on_task("task.return", task_id, actor, work)


def _end_instance(
    instance: WorkflowInstance, ctx: Ctx, state: str, doc_status: str, **detail: Any
) -> None:
    from api.documents.actions import set_status

    instance.state = state
    instance.finished_at = ctx.now
    instance.step_sender = None
    instance.step_opener = None
    instance.save(update_fields=["state", "finished_at", "step_sender", "step_opener"])
    set_status(instance.document, doc_status)
    ctx.event(
        f"workflow.{state}",
        actor=ctx.actor,
        obj=instance.document,
        detail={"instance_id": instance.pk, **detail},
    )


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


def add_countersigner(
    task_id: int, actor: User, user_ids: list[int], opinion: str = ""
) -> list[Task]:
    """加签: add people to the current countersign step — by a countersigner holding an
    open task of it, or by whoever sent the document to it. Parallel and any-one
    steps open the new tasks at once; a sequential step queues them at the end."""
    _opinion(opinion)
    if not isinstance(user_ids, list) or not user_ids or len(user_ids) > 20:
        raise ApiError("validation_error", fields={"user_ids": ["1–20 user ids"]})

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


# --- document-level actions: withdraw, admin move -------------------------------------------------


def _on_document(
    audit_action: str,
    document_id: int,
    actor: User,
    work: Callable[[WorkflowInstance, Ctx], T],
) -> T:
    from api.documents.selectors import document_or_404

    document_or_404(actor, document_id)
    try:
        with transaction.atomic():
            instance = (
                WorkflowInstance.objects.select_for_update()
                .select_related("document", "document__unit")
                .filter(document_id=document_id)
                .order_by("-started_at", "-id")
                .first()
            )
            if instance is None or instance.state != InstanceState.RUNNING:
                raise Conflict("instance_not_running")
            ctx = Ctx(actor=actor, now=timezone.now())
            result = work(instance, ctx)
            ctx.flush()
            return result
    except _Denied as denied:
        record_denied(
            audit_action, actor=actor, object_type="documents.document", object_id=document_id
        )
        raise Forbidden(denied.code) from None


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
        raise _refuse("reason_required", fields={"reason": ["required"]})

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


# --- batch -----------------------------------------------------------------------------------


def batch_approve(task_ids: list[int], actor: User) -> list[dict[str, Any]]:
    """Approve up to 100 tasks with their standard opinions; only tasks of batchable
    steps. Each item runs in its own transaction and reports its own result, so one
    refusal does not undo the others."""
    if not isinstance(task_ids, list) or not task_ids:
        raise ApiError("validation_error", fields={"task_ids": ["a non-empty list"]})
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
    from api.notify.actions import mark_task_read as mark_task_notifications_read

    now = timezone.now()
    mark_task_notifications_read(actor, task_id, now)
    return bool(
        Task.objects.filter(pk=task_id, assignee=actor, read_at__isnull=True).update(read_at=now)
    )


# --- delegation (api/workflow/receivers.py) -------------------------------------------------------


def delegate_open_tasks(absent: User, backup: User) -> list[int]:
    """An absence started: A's open and waiting tasks go to B, on behalf of A."""
    held_by_a = Q(assignee=absent, on_behalf_of__isnull=True)
    return _move_live_tasks(held_by_a, to=backup, on_behalf_of=absent, action="task.delegated")


def undelegate_open_tasks(returning: User) -> list[int]:
    """An absence ended or was cancelled: tasks still open at B for A go back to A;
    what B already did stays done (B 代 A in the trail)."""
    held_for_a = Q(on_behalf_of=returning) & ~Q(assignee=returning)
    return _move_live_tasks(held_for_a, to=returning, on_behalf_of=None, action="task.undelegated")


def _move_live_tasks(held: Q, *, to: User, on_behalf_of: User | None, action: str) -> list[int]:
    """Moves each open or waiting task matching ``held`` to ``to``, one transaction per
    task with its instance locked; the condition is checked again under the lock, so a
    task acted on meanwhile stays where it is. A moved open task notifies its new
    holder (Ctx.opened) and the move is audited as ``action``."""
    moved: list[int] = []
    ids = list(
        Task.objects.filter(held, state__in=engine.LIVE_STATES).values_list("instance_id", "id")
    )
    for instance_id, task_id in ids:
        with transaction.atomic():
            WorkflowInstance.objects.select_for_update().filter(pk=instance_id).first()
            task = (
                Task.objects.select_for_update()
                .select_related("document")
                .filter(held, pk=task_id, state__in=engine.LIVE_STATES)
                .first()
            )
            if task is None:
                continue
            from_user_id = task.assignee_id
            task.assignee = to
            task.on_behalf_of = on_behalf_of
            task.save(update_fields=["assignee", "on_behalf_of"])
            ctx = Ctx(actor=None, now=timezone.now())
            if task.state == TaskState.OPEN:
                ctx.opened.append(task.pk)
            ctx.event(
                action,
                actor_username="system",
                obj=task.document,
                detail={"task_id": task.pk, "from_user_id": from_user_id, "to_user_id": to.pk},
            )
            ctx.flush()
            moved.append(task.pk)
    return moved


# --- templates (api/workflow/views_templates.py) --------------------------------------------------

MAX_STEPS = 20
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
        raise _refuse("template_invalid", fields={"steps": [f"1–{MAX_STEPS} steps"]})
    cleaned: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(steps):
        problems: list[str] = []
        if not isinstance(raw, dict) or set(raw) - STEP_KEYS:
            errors[f"steps[{index}]"] = ["an object with the documented keys only"]
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
            problems.append("kind")
        elif direction == Direction.OUTGOING and kind in INCOMING_ONLY:
            problems.append("kind: incoming documents only")
        elif direction == Direction.INCOMING and kind in OUTGOING_ONLY:
            problems.append("kind: outgoing documents only")
        if who not in AssigneeKind.values:
            problems.append("assignee_kind")
        elif who == AssigneeKind.AUTO and kind not in engine_auto_kinds():
            problems.append("assignee_kind: auto only for number and distribute")
        elif who == AssigneeKind.POST:
            post_id = raw.get("post")
            post = (
                Post.objects.select_related("unit").filter(pk=post_id).first()
                if isinstance(post_id, int)
                else None
            )
            if post is None or not post.unit.path.startswith(unit.path):
                problems.append("post: a post of the template's unit or below")
            step["post"] = post
        elif who == AssigneeKind.USER:
            user_id = raw.get("user")
            person = (
                User.objects.select_related("unit").filter(pk=user_id).first()
                if isinstance(user_id, int)
                else None
            )
            if person is None or not routing.in_scope(person, unit):
                problems.append("user: an active person in the unit's scope")
            step["user"] = person
        elif who == AssigneeKind.DRAFTER_CHOICE:
            key = step["choice_key"]
            if not key or not key.replace("_", "").isalnum() or not key.isascii() or len(key) > 40:
                problems.append("choice_key: letters, digits and _")
            elif key == "recipients":
                problems.append("choice_key: 'recipients' is reserved")
        if step["countersign_mode"] not in CountersignMode.values:
            problems.append("countersign_mode")
        days = step["time_limit_days"]
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 366
        ):
            problems.append("time_limit_days: 0 < days ≤ 366")
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
        raise _refuse("template_invalid", fields={"name": ["1–100 characters"]})
    if not isinstance(doc_types, list) or not all(t in DocType.values for t in doc_types):
        raise _refuse("template_invalid", fields={"doc_types": list(DocType.values)})
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
        raise _refuse("template_invalid", fields={"direction": list(Direction.values)})
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
            WorkflowTemplate.objects.select_for_update().select_related("unit").get(pk=template_id)
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
