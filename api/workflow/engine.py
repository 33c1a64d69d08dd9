"""Engine internals: opening steps, creating tasks, deciding when a step is complete.

Docs: docs/workflow.md#steps-and-states. Called only from api/workflow/actions.py,
inside the action's transaction and with the instance row already locked
(``select_for_update``): that lock is what makes "the step is complete" a decision
taken exactly once when several countersigners approve at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from api.accounts.models import Post, User
from api.common.errors import ApiError
from api.workflow import routing
from api.workflow.models import (
    URGENCY_RANK,
    AssigneeKind,
    CountersignMode,
    InstanceState,
    StepKind,
    Task,
    TaskState,
    WorkflowInstance,
)
from api.workflow.signals import tasks_opened

LIVE_STATES = (TaskState.OPEN, TaskState.WAITING)


@dataclass
class Ctx:
    """What one action carries through the engine: who, when, and the audit events
    to write at the end (``record`` is called last, after every row lock)."""

    actor: User | None
    now: datetime
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)

    def event(self, action: str, **kwargs: Any) -> None:
        self.events.append((action, kwargs))

    def flush(self) -> None:
        from api.audit.recorder import record

        for action, kwargs in self.events:
            record(action, **kwargs)
        self.events.clear()
        if self.opened:
            ids = list(self.opened)
            transaction.on_commit(lambda: tasks_opened.send(sender=Task, task_ids=ids))


# --- reading the snapshot -----------------------------------------------------------------


def next_step(instance: WorkflowInstance, order: int) -> dict | None:
    later = [s for s in instance.steps if s["order"] > order]
    return min(later, key=lambda s: s["order"]) if later else None


def first_step(instance: WorkflowInstance) -> dict | None:
    return min(instance.steps, key=lambda s: s["order"]) if instance.steps else None


def resolve_assignees(instance: WorkflowInstance, step: dict) -> list[User]:
    """The people a step is meant for (before delegation routing)."""
    kind = step["assignee_kind"]
    if kind == AssigneeKind.AUTO:
        return []
    if kind == AssigneeKind.USER:
        users = list(User.objects.select_related("unit").filter(pk=step["user_id"], is_active=True))
    elif kind == AssigneeKind.POST:
        post = Post.objects.select_related("holder", "backup").filter(pk=step["post_id"]).first()
        person = None
        if post is not None:
            person = post.holder if post.holder and post.holder.is_active else post.backup
        users = [person] if person is not None and person.is_active else []
    else:
        ids = instance.participants.get(step["choice_key"], [])
        found = {u.pk: u for u in User.objects.select_related("unit").filter(pk__in=ids)}
        users = [found[i] for i in ids if i in found and found[i].is_active]
    if not users and (kind != AssigneeKind.DRAFTER_CHOICE or step.get("required", True)):
        raise ApiError(
            "step_unassigned",
            status_code=422,
            extra={"step_order": step["order"], "step_name": step["name"]},
        )
    return users


# --- creating tasks ------------------------------------------------------------------------


def create_task(
    instance: WorkflowInstance,
    step: dict,
    principal: User,
    ctx: Ctx,
    *,
    people: int = 1,
    position: int = 0,
    waiting: bool = False,
    sender: User | None = None,
    opened_by: Task | None = None,
    due_at: datetime | None = None,
) -> Task:
    """A task at ``step`` meant for ``principal``, routed to their backup when they
    are absent (assignee=B, on_behalf_of=A)."""
    document = instance.document
    assignee, behalf = routing.route(principal, ctx.now)
    task = Task(
        instance=instance,
        document=document,
        step_order=step["order"],
        step_kind=step["kind"],
        step_name=step["name"],
        position=position,
        round=instance.round,
        opened_by=opened_by,
        assignee=assignee,
        on_behalf_of=behalf,
        sender=sender,
        state=TaskState.WAITING if waiting else TaskState.OPEN,
        batchable=bool(step.get("batchable")),
        urgency=document.urgency,
        urgency_rank=URGENCY_RANK.get(document.urgency, 0),
        created_at=ctx.now,
    )
    if not waiting:
        task.received_at = ctx.now
        task.due_at = due_at or _due(instance, step, principal, people, ctx)
    task.save()
    if not waiting:
        ctx.opened.append(task.pk)
    return task


def _due(
    instance: WorkflowInstance, step: dict, principal: User, people: int, ctx: Ctx
) -> datetime:
    """The deadline; when the same person returned this step earlier, the clock that
    was paused then resumes with the time that was left (docs/workflow.md#deadlines)."""
    urgency = instance.document.urgency
    paused = (
        Task.objects.select_for_update()
        .filter(
            instance=instance,
            step_order=step["order"],
            state=TaskState.RETURNED,
            paused_at__isnull=False,
        )
        .filter(_principal_q(principal))
        .order_by("-id")
        .first()
    )
    if paused is None or paused.due_at is None or paused.paused_at is None:
        return routing.deadline(step, urgency, people, ctx.now)
    from api.workdays.deadlines import resume_after_pause

    due, paused_for = resume_after_pause(paused.due_at, paused.paused_at, ctx.now)
    paused.paused_seconds += paused_for
    paused.paused_at = None
    paused.save(update_fields=["paused_seconds", "paused_at"])
    return due


def _principal_q(user: User):
    from django.db.models import Q

    return Q(on_behalf_of=user) | Q(assignee=user, on_behalf_of__isnull=True)


def principal_of(task: Task) -> User:
    """The person a task is meant for: A, also while B holds it."""
    return task.on_behalf_of or task.assignee  # type: ignore[return-value]


# --- opening and completing steps ----------------------------------------------------------


def open_step(
    instance: WorkflowInstance,
    step: dict | None,
    ctx: Ctx,
    *,
    sender: User | None,
    opener: Task | None,
    principals: list[User] | None = None,
) -> list[Task]:
    """Open ``step`` (and run through automatic or empty optional steps after it);
    past the last step the instance completes. Returns the tasks opened."""
    while step is not None:
        instance.round += 1
        instance.current_step_order = step["order"]
        instance.step_sender = sender
        instance.step_opener = opener
        people = principals if principals is not None else resolve_assignees(instance, step)
        principals = None
        if step["assignee_kind"] == AssigneeKind.AUTO:
            opener = run_automatic(instance, step, ctx)
            sender = None
            step = next_step(instance, step["order"])
            continue
        if not people:  # an optional drafter_choice step nobody was chosen for
            ctx.event(
                "workflow.step_skipped",
                actor=ctx.actor,
                obj=instance.document,
                detail={"instance_id": instance.pk, "step_order": step["order"]},
            )
            step = next_step(instance, step["order"])
            continue
        sequential = (
            step["kind"] == StepKind.COUNTERSIGN
            and step.get("countersign_mode") == CountersignMode.SEQUENTIAL
        )
        tasks = [
            create_task(
                instance,
                step,
                person,
                ctx,
                people=len(people),
                position=index,
                waiting=sequential and index > 0,
                sender=sender,
                opened_by=opener,
            )
            for index, person in enumerate(people)
        ]
        instance.save(update_fields=["round", "current_step_order", "step_sender", "step_opener"])
        return tasks
    complete(instance, ctx)
    return []


def run_automatic(instance: WorkflowInstance, step: dict, ctx: Ctx) -> Task:
    """A step the system performs itself: number (编号) or distribute (分发)."""
    detail = perform_step_effect(instance, step, ctx.actor)
    task = Task.objects.create(
        instance=instance,
        document=instance.document,
        step_order=step["order"],
        step_kind=step["kind"],
        step_name=step["name"],
        round=instance.round,
        assignee=None,
        state=TaskState.DONE,
        received_at=ctx.now,
        acted_at=ctx.now,
        working_seconds=0,
        action="auto",
        urgency=instance.document.urgency,
        urgency_rank=URGENCY_RANK.get(instance.document.urgency, 0),
        detail=detail,
        created_at=ctx.now,
    )
    ctx.event(
        f"workflow.{step['kind']}_auto",
        actor=ctx.actor,
        obj=instance.document,
        detail={"instance_id": instance.pk, "task_id": task.pk, **detail},
    )
    return task


def perform_step_effect(instance: WorkflowInstance, step: dict, actor: User | None) -> dict:
    """What completing a number or distribute step does to the document."""
    if step["kind"] == StepKind.NUMBER:
        from api.documents.actions import assign_number

        number = assign_number(instance.document_id, actor)
        instance.document.doc_number = number
        return {"doc_number": number}
    if step["kind"] == StepKind.DISTRIBUTE:
        # Issue 8 sends it through the exchange; for now the recipients are recorded.
        return {"recipient_units": list(instance.participants.get("recipients", []))}
    return {}


def complete(instance: WorkflowInstance, ctx: Ctx) -> None:
    from api.documents.actions import set_status

    instance.state = InstanceState.COMPLETED
    instance.finished_at = ctx.now
    instance.step_sender = None
    instance.step_opener = None
    instance.save(
        update_fields=[
            "state",
            "finished_at",
            "round",
            "current_step_order",
            "step_sender",
            "step_opener",
        ]
    )
    set_status(instance.document, "completed")
    ctx.event(
        "workflow.completed",
        actor=ctx.actor,
        obj=instance.document,
        detail={"instance_id": instance.pk},
    )


def close_task(task: Task, ctx: Ctx, *, state: str, action: str, opinion: str = "") -> None:
    task.state = state
    task.action = action
    task.opinion = opinion
    task.acted_at = ctx.now
    if state == TaskState.RETURNED:
        task.paused_at = ctx.now
    if task.received_at is not None:
        spent = routing.working_seconds(task.received_at, ctx.now) - task.paused_seconds
        task.working_seconds = max(spent, 0)
    task.save(
        update_fields=[
            "state",
            "action",
            "opinion",
            "acted_at",
            "paused_at",
            "working_seconds",
            "assignee",
            "on_behalf_of",
        ]
    )


def round_tasks(instance: WorkflowInstance, *, lock: bool = True) -> list[Task]:
    queryset = Task.objects.filter(instance=instance, round=instance.round).order_by(
        "position", "id"
    )
    if lock:
        queryset = queryset.select_for_update()
    return list(queryset)


def cancel_live(tasks: list[Task], ctx: Ctx, action: str) -> list[int]:
    cancelled = []
    for other in tasks:
        if other.state in LIVE_STATES:
            other.state = TaskState.CANCELLED
            other.action = action
            other.acted_at = ctx.now
            other.save(update_fields=["state", "action", "acted_at"])
            cancelled.append(other.pk)
    return cancelled


def after_done(instance: WorkflowInstance, task: Task, ctx: Ctx) -> None:
    """A task of the current round is done: open the next turn, or complete the step
    and open the next one. The caller holds the instance lock."""
    step = instance.step(task.step_order) or {}
    tasks = round_tasks(instance)
    if task.step_kind == StepKind.COUNTERSIGN and step.get("countersign_mode") == "any":
        cancel_live(tasks, ctx, "cancelled_any_approved")
    elif any(t.state == TaskState.OPEN for t in tasks):
        return
    else:
        waiting = [t for t in tasks if t.state == TaskState.WAITING]
        if waiting:
            turn = waiting[0]
            turn.state = TaskState.OPEN
            turn.received_at = ctx.now
            turn.sender = ctx.actor
            turn.due_at = routing.deadline(step, instance.document.urgency, len(tasks), ctx.now)
            turn.save(update_fields=["state", "received_at", "sender", "due_at"])
            ctx.opened.append(turn.pk)
            return
    open_step(
        instance,
        next_step(instance, task.step_order),
        ctx,
        sender=ctx.actor,
        opener=task,
    )


def previous_human_step(instance: WorkflowInstance, order: int) -> tuple[dict, list[User]] | None:
    """The last step before ``order`` that people completed in this instance, with
    the people who completed it (their latest round), for a return to the previous step."""
    done = (
        Task.objects.filter(
            instance=instance,
            step_order__lt=order,
            state=TaskState.DONE,
            assignee__isnull=False,
        )
        .select_related("assignee", "on_behalf_of")
        .order_by("-step_order", "-round", "position", "id")
    )
    chosen_order = chosen_round = None
    people: list[User] = []
    for candidate in done:
        if chosen_order is None:
            chosen_order, chosen_round = candidate.step_order, candidate.round
        if candidate.step_order != chosen_order or candidate.round != chosen_round:
            break
        person = principal_of(candidate)
        if person.pk not in {p.pk for p in people}:
            people.append(person)
    if chosen_order is None:
        return None
    step = instance.step(chosen_order)
    return (step, people) if step else None
