"""Which actions a person may take on a task now, and why not — the same rules the
actions enforce, so the phone never shows a button that would fail.

Docs: docs/workflow.md#allowed-actions. ``allowed_actions`` costs no query for a
task in the user's own to-do list (the list loads instance and document); only the
withdraw rule reads the current round when the user is the one who may withdraw.
"""

from __future__ import annotations

from typing import Any

from api.accounts.models import User
from api.common.errors import message_for
from api.workflow.models import InstanceState, StepKind, Task, TaskState, WorkflowInstance

ACTIONS = (
    "approve",
    "return",
    "transfer",
    "add_countersigner",
    "acknowledge",
    "withdraw",
    "batch_approve",
    "seal",
    "distribute",
)


def withdraw_refusal(instance: WorkflowInstance, user: User, tasks: list[Task]) -> str | None:
    """None when ``user`` may withdraw now, else the refusal code. ``tasks`` are the
    current round's tasks."""
    if instance.state != InstanceState.RUNNING:
        return "instance_not_running"
    if instance.step_sender_id is None or instance.step_sender_id != user.pk:
        return "not_sender"
    if any(t.acted_at is not None for t in tasks):
        return "next_step_started"
    return None


_ROUND = "_govdesk_current_round"


def remember_round(instance: WorkflowInstance, tasks: list[Task]) -> None:
    """Keep the current round's tasks, as an action just left them, on the instance
    object so the answer's withdraw rule does not read them again."""
    setattr(instance, _ROUND, (instance.round, list(tasks)))


def _current_round(instance: WorkflowInstance) -> list[Task]:
    remembered = getattr(instance, _ROUND, None)
    if remembered is not None and remembered[0] == instance.round:
        return remembered[1]
    return list(Task.objects.filter(instance=instance, round=instance.round))


def _deny(code: str) -> dict[str, Any]:
    return {"allowed": False, "code": code, "reason": message_for(code)}


OK: dict[str, Any] = {"allowed": True}


def allowed_actions(task: Task, user: User, *, owner: bool | None = None) -> dict[str, dict]:
    """For every action: {"allowed": True} or {"allowed": False, "code", "reason"}."""
    instance = task.instance
    if owner is None:
        owner = task.assignee_id == user.pk
        if not owner and task.state in (TaskState.OPEN, TaskState.WAITING) and task.assignee:
            from api.workflow.routing import route

            acting, behalf = route(task.assignee)
            owner = behalf is not None and acting.pk == user.pk
    is_open = task.state == TaskState.OPEN
    result: dict[str, dict] = {}

    def own_open() -> str | None:
        if not owner:
            return "not_your_task"
        if not is_open:
            return "task_not_open"
        return None

    base = own_open()
    sealing = task.step_kind == StepKind.SEAL  # sealed via POST …/seal/, never approved
    # distributed via POST …/distribute/ (the exchange dispatch), never approved
    distributing = task.step_kind == StepKind.DISTRIBUTE
    own_step = "seal_required" if sealing else "dispatch_required" if distributing else None
    code = base or own_step
    result["approve"] = _deny(code) if code else OK
    code = base or (None if sealing else "not_seal_step")
    result["seal"] = _deny(code) if code else OK
    code = base or (None if distributing else "not_distribute_step")
    result["distribute"] = _deny(code) if code else OK
    circulation = task.step_kind == StepKind.CIRCULATE
    for name in ("return", "transfer"):
        code = base or ("circulation_step" if circulation else None)
        result[name] = _deny(code) if code else OK
    # add_countersigner: a countersign step, by its open task's holder or the sender.
    if task.step_kind != StepKind.COUNTERSIGN:
        result["add_countersigner"] = _deny("not_countersign_step")
    elif instance.state != InstanceState.RUNNING or task.round != instance.round:
        result["add_countersigner"] = _deny("task_not_open")
    elif (owner and is_open) or user.pk in (instance.step_sender_id, instance.started_by_id):
        result["add_countersigner"] = OK
    else:
        result["add_countersigner"] = _deny(base or "not_sender")
    code = base or (None if circulation else "not_circulation_step")
    result["acknowledge"] = _deny(code) if code else OK
    if instance.state != InstanceState.RUNNING:
        result["withdraw"] = _deny("instance_not_running")
    elif instance.step_sender_id != user.pk:
        result["withdraw"] = _deny("not_sender")
    else:
        code = withdraw_refusal(instance, user, _current_round(instance))
        result["withdraw"] = _deny(code) if code else OK
    code = base or own_step or (None if task.batchable else "not_batchable")
    result["batch_approve"] = _deny(code) if code else OK
    return result
