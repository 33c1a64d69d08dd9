"""Engine internals: opening steps, creating tasks, deciding when a step is complete.

Docs: docs/workflow.md#steps-and-states. Called only from api/workflow/actions/,
inside the action's transaction and with the instance row already locked
(``select_for_update``): that lock is what makes "the step is complete" a decision
taken exactly once when several countersigners approve at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from api.accounts.models import Post, User
from api.common.enqueue import enqueue_after_commit
from api.common.errors import ApiError
from api.workflow import routing, time_limits
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
from api.workflow.signals import tasks_opened, tasks_opening

LIVE_STATES = (TaskState.OPEN, TaskState.WAITING)


@dataclass
class Ctx:
    """What one action carries through the engine: who, when, and the audit events
    to write at the end (``record`` is called last, after every row lock)."""

    actor: User | None
    now: datetime
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    # The current round and the paused tasks, locked with the acted task
    # (lock_task_with_round); after_done uses them instead of reading them again.
    round_rows: tuple[list[Task], list[Task]] | None = None

    def event(self, action: str, **kwargs: Any) -> None:
        self.events.append((action, kwargs))

    def flush(self) -> None:
        from api.audit.recorder import record

        if self.opened:  # in this transaction, before the audit lock (docs/notifications.md)
            tasks_opening.send(sender=Task, task_ids=list(self.opened), now=self.now)
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


def resolve_assignees(
    instance: WorkflowInstance, step: dict, at: datetime | None = None
) -> list[User]:
    """The people a step is meant for (before delegation routing). With ``at``, the
    users read by id also carry whether they are absent then (routing.with_absence),
    so routing them costs no further query."""
    kind = step["assignee_kind"]
    if kind == AssigneeKind.AUTO:
        return []
    people = User.objects.select_related("unit")
    if at is not None:
        people = routing.with_absence(people, at)
    if kind == AssigneeKind.USER:
        users = list(people.filter(pk=step["user_id"], is_active=True))
    elif kind == AssigneeKind.POST:
        post = Post.objects.select_related("holder", "backup").filter(pk=step["post_id"]).first()
        person = None
        if post is not None:
            person = post.holder if post.holder and post.holder.is_active else post.backup
        users = [person] if person is not None and person.is_active else []
    else:
        ids = instance.participants.get(step["choice_key"], [])
        found = {u.pk: u for u in people.filter(pk__in=ids)}
        users = [found[i] for i in ids if i in found and found[i].is_active]
    if at is not None:
        routing.note_absence(users, at)
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
    task = build_task(
        instance,
        step,
        principal,
        ctx,
        people=people,
        position=position,
        waiting=waiting,
        sender=sender,
        opened_by=opened_by,
        due_at=due_at,
    )
    task.save()
    if not waiting:
        ctx.opened.append(task.pk)
    return task


def build_task(
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
    route: tuple[User, User | None] | None = None,
    paused: list[Task] | None = None,
) -> Task:
    """The unsaved task ``create_task`` saves. ``route`` is the routing already
    decided for ``principal`` and ``paused`` the step's locked paused tasks (both
    loaded once for a whole step by ``open_step``); without them each is read here."""
    document = instance.document
    assignee, behalf = route if route is not None else routing.route(principal, ctx.now)
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
        task.due_at = due_at or _due(instance, step, principal, people, ctx, paused)
    return task


def _paused_query(instance: WorkflowInstance, step: dict):
    return Task.objects.select_for_update(no_key=True).filter(
        instance=instance,
        step_order=step["order"],
        state=TaskState.RETURNED,
        paused_at__isnull=False,
    )


def _due(
    instance: WorkflowInstance,
    step: dict,
    principal: User,
    people: int,
    ctx: Ctx,
    candidates: list[Task] | None = None,
) -> datetime:
    """The deadline; when the same person returned this step earlier, the clock that
    was paused then resumes with the time that was left (docs/workflow.md#deadlines).
    ``candidates``: the step's paused tasks, newest first, already locked."""
    urgency = instance.document.urgency
    if candidates is None:
        paused = (
            _paused_query(instance, step).filter(_principal_q(principal)).order_by("-id").first()
        )
    else:
        paused = next(
            (
                t
                for t in candidates
                if t.paused_at is not None
                and (
                    t.on_behalf_of_id == principal.pk
                    or (t.assignee_id == principal.pk and t.on_behalf_of_id is None)
                )
            ),
            None,
        )
    if paused is None or paused.due_at is None or paused.paused_at is None:
        own = routing.deadline(step, urgency, people, ctx.now)
        if _sequential(step):
            # The first turn: an even share of the step among its turns.
            return time_limits.turn_due(time_limits.cap(own, instance.document), people, ctx.now)
        return time_limits.cap(own, instance.document)
    from api.workdays.deadlines import resume_after_pause

    due, paused_for = resume_after_pause(paused.due_at, paused.paused_at, ctx.now)
    paused.paused_seconds += paused_for
    paused.paused_at = None
    paused.save(update_fields=["paused_seconds", "paused_at"])
    return time_limits.cap(due, instance.document)


def _sequential(step: dict) -> bool:
    return (
        step["kind"] == StepKind.COUNTERSIGN
        and step.get("countersign_mode") == CountersignMode.SEQUENTIAL
    )


def _principal_q(user: User):
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
    paused_rows: list[Task] | None = None,
) -> list[Task]:
    """Open ``step`` (and run through automatic or empty optional steps after it);
    past the last step the instance completes. Returns the tasks opened.
    ``paused_rows``: every paused returned task of the instance, newest first and
    already locked (``round_and_paused``); else read per step."""
    while step is not None:
        instance.round += 1
        instance.current_step_order = step["order"]
        instance.step_sender = sender
        instance.step_opener = opener
        people = (
            principals if principals is not None else resolve_assignees(instance, step, ctx.now)
        )
        principals = None
        if step["assignee_kind"] == AssigneeKind.AUTO and step["kind"] == StepKind.DISTRIBUTE:
            # A snapshot taken before distribute steps became dispatches: the drafter
            # dispatches it (the step is completed by the exchange, never by itself).
            people = [instance.document.drafter]
        elif step["assignee_kind"] == AssigneeKind.AUTO:
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
        # One query each for the whole step, not one per person: who is absent
        # (routing), and which earlier returned tasks of this step hold a paused clock.
        routes = routing.route_many(people, ctx.now)
        if paused_rows is None:
            paused = list(_paused_query(instance, step).order_by("-id"))
        else:
            paused = [t for t in paused_rows if t.step_order == step["order"]]
        tasks = [
            build_task(
                instance,
                step,
                person,
                ctx,
                people=len(people),
                position=index,
                waiting=sequential and index > 0,
                sender=sender,
                opened_by=opener,
                route=routes[person.pk],
                paused=paused,
            )
            for index, person in enumerate(people)
        ]
        Task.objects.bulk_create(tasks)
        ctx.opened.extend(t.pk for t in tasks if t.state == TaskState.OPEN)
        instance.save(update_fields=["round", "current_step_order", "step_sender", "step_opener"])
        return tasks
    complete(instance, ctx)
    return []


def run_automatic(instance: WorkflowInstance, step: dict, ctx: Ctx) -> Task:
    """A step the system performs itself: number (编号)."""
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


def _render_after_commit(document_id: int) -> None:
    """Render the numbered document (GB/T 9704, docs/rendering.md) once the number is
    committed. A broker outage is logged, never turned into an error of the committed
    approval (api/common/enqueue.py); the render task is idempotent and can be re-queued."""
    enqueue_after_commit("api.documents.tasks.render_document", document_id)


def perform_step_effect(instance: WorkflowInstance, step: dict, actor: User | None) -> dict:
    """What completing a number step does to the document (a distribute step is
    completed by the exchange dispatch: actions.distribute_step)."""
    if step["kind"] == StepKind.NUMBER:
        from api.documents.actions import assign_number

        number = assign_number(instance.document_id, actor)
        instance.document.doc_number = number
        _render_after_commit(instance.document_id)
        return {"doc_number": number}
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
    time_limits.finish(instance.document, ctx.now, ctx.actor)
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
        queryset = queryset.select_for_update(no_key=True)
    return list(queryset)


def _round_and_paused_q(instance: WorkflowInstance) -> Q:
    return Q(round=instance.round) | Q(state=TaskState.RETURNED, paused_at__isnull=False)


def round_and_paused(instance: WorkflowInstance) -> tuple[list[Task], list[Task]]:
    """In one locking query: the current round's tasks (as ``round_tasks``) and every
    paused returned task of the instance, newest first (for ``open_step``'s deadlines)."""
    rows = list(
        Task.objects.select_for_update(no_key=True)
        .filter(instance=instance)
        .filter(_round_and_paused_q(instance))
        .order_by("position", "id")
    )
    return _split(instance, rows)


def lock_task_with_round(
    instance: WorkflowInstance, task_id: int
) -> tuple[Task, tuple[list[Task], list[Task]]]:
    """The task (with the people an answer shows) locked in the same query as its
    instance's current round and paused tasks (``round_and_paused``). The caller
    holds the instance lock, so the lock order stays instance, then tasks."""
    rows = list(
        Task.objects.select_for_update(of=("self",), no_key=True)
        .select_related("sender", "on_behalf_of")
        .filter(instance=instance)
        .filter(Q(pk=task_id) | _round_and_paused_q(instance))
        .order_by("position", "id")
    )
    task = next((t for t in rows if t.pk == task_id), None)
    if task is None:
        raise Task.DoesNotExist
    return task, _split(instance, rows)


def _split(instance: WorkflowInstance, rows: list[Task]) -> tuple[list[Task], list[Task]]:
    current = [t for t in rows if t.round == instance.round]
    paused = sorted(
        (t for t in rows if t.state == TaskState.RETURNED and t.paused_at is not None),
        key=lambda t: t.pk,
        reverse=True,
    )
    return current, paused


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


def after_done(instance: WorkflowInstance, task: Task, ctx: Ctx) -> list[Task]:
    """A task of the current round is done: open the next turn, or complete the step
    and open the next one. The caller holds the instance lock. Returns the tasks of
    the instance's current round as they now are ([] when it completed)."""
    step = instance.step(task.step_order) or {}
    preloaded = ctx.round_rows
    ctx.round_rows = None
    if preloaded is not None and any(t is task for t in preloaded[0]):
        tasks, paused = preloaded
    else:
        tasks, paused = round_and_paused(instance)
    if task.step_kind == StepKind.COUNTERSIGN and step.get("countersign_mode") == "any":
        cancel_live(tasks, ctx, "cancelled_any_approved")
    elif any(t.state == TaskState.OPEN for t in tasks):
        return tasks
    else:
        waiting = [t for t in tasks if t.state == TaskState.WAITING]
        if waiting:
            turn = waiting[0]
            turn.state = TaskState.OPEN
            turn.received_at = ctx.now
            turn.sender = ctx.actor
            turn.due_at = _next_turn_due(instance, step, tasks, len(waiting), ctx.now)
            turn.save(update_fields=["state", "received_at", "sender", "due_at"])
            ctx.opened.append(turn.pk)
            return tasks
    return open_step(
        instance,
        next_step(instance, task.step_order),
        ctx,
        sender=ctx.actor,
        opener=task,
        paused_rows=paused,
    )


def _next_turn_due(
    instance: WorkflowInstance, step: dict, tasks: list[Task], turns_left: int, now: datetime
) -> datetime:
    """A later turn of a sequential countersign: what is left of the step — its own limit
    from when its first turn opened, capped by the document — shared evenly among the
    turns still to come (docs/workflow.md#document-time-limits)."""
    opened = min((t.received_at for t in tasks if t.received_at is not None), default=now)
    own = routing.deadline(step, instance.document.urgency, len(tasks), opened)
    return time_limits.turn_due(time_limits.cap(own, instance.document), turns_left, now)


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
