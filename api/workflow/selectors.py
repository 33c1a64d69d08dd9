"""Read side of the workflow: to-do and done lists, one task, the trail, the badge.

Docs: docs/workflow.md#reading. Lists load everything a phone list shows in one
query (select_related), so their cost does not grow with the page size.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.common.people import person_ref
from api.workflow.models import Task, TaskState, WorkflowInstance
from api.workflow.rules import allowed_actions as _allowed_actions

DONE_STATES = (TaskState.DONE, TaskState.RETURNED, TaskState.TRANSFERRED)
_RELATED = ("document", "sender", "assignee", "on_behalf_of", "instance")


def todo_tasks(user: User) -> QuerySet[Task]:
    """Open tasks the user must act on, most urgent first: urgency rank, overdue
    first, earliest due, then id."""
    now = timezone.now()
    return (
        Task.objects.filter(assignee=user, state=TaskState.OPEN)
        .select_related(*_RELATED)
        .annotate(
            overdue_rank=Case(
                When(due_at__lt=now, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("-urgency_rank", "-overdue_rank", "due_at", "id")
    )


def done_tasks(user: User) -> QuerySet[Task]:
    """Tasks the user acted on (approved, returned, transferred, acknowledged), newest first."""
    return (
        Task.objects.filter(assignee=user, state__in=DONE_STATES)
        .select_related(*_RELATED)
        .order_by("-acted_at", "-id")
    )


def task_or_404(user: User, task_id: int) -> Task:
    """The task when the user holds it, it is held for them (on_behalf_of), or they
    are the backup acting for its absent assignee; else 404 (recorded)."""
    task = None
    if isinstance(task_id, int) and 0 < task_id < 2**63:
        task = Task.objects.select_related(*_RELATED).filter(pk=task_id).first()
    if task is not None:
        if user.pk in (task.assignee_id, task.on_behalf_of_id):
            return task
        if task.assignee is not None and task.state in (TaskState.OPEN, TaskState.WAITING):
            from api.workflow.routing import route

            acting, behalf = route(task.assignee)
            if behalf is not None and acting.pk == user.pk:
                return task
    record_denied("task.view", actor=user, object_type="workflow.task", object_id=task_id)
    raise NotFound()


def allowed_actions(task: Task, user: User) -> dict[str, dict]:
    return _allowed_actions(task, user)


def actor_label(task: Task) -> str:
    """ "deputy1 代 leader1" with display names (吴强 代 张伟); "系统" for automatic steps."""
    if task.assignee is None:
        return "系统"
    if task.on_behalf_of is not None:
        return f"{task.assignee.display_name} 代 {task.on_behalf_of.display_name}"
    return task.assignee.display_name


def trail(document: Any) -> list[dict[str, Any]]:
    """Every task of every run of the document in order: step, state, action,
    opinion, actor and on-behalf-of, full timestamps. Waiting turns of a sequential
    countersign that never opened are left out."""
    tasks = (
        Task.objects.filter(document_id=document.pk)
        .exclude(state=TaskState.WAITING)
        .exclude(state=TaskState.CANCELLED, received_at__isnull=True)
        .select_related("assignee", "on_behalf_of", "sender")
        .order_by("instance_id", "received_at", "id")
    )
    return [
        {
            "task_id": task.pk,
            "instance_id": task.instance_id,
            "step": {"order": task.step_order, "kind": task.step_kind, "name": task.step_name},
            "state": task.state,
            "action": task.action,
            "opinion": task.opinion,
            "actor": person_ref(task.assignee),
            "on_behalf_of": person_ref(task.on_behalf_of),
            "actor_label": actor_label(task),
            "from": person_ref(task.sender),
            "received_at": task.received_at,
            "due_at": task.due_at,
            "acted_at": task.acted_at,
            "working_seconds": task.working_seconds,
            "confirmed_with": task.confirmed_with,
            "detail": task.detail,
        }
        for task in tasks
    ]


def has_task(user: User, document_id: int) -> bool:
    """The user has or had a task on the document (themselves or held for them)."""
    return Task.objects.filter(
        Q(assignee=user) | Q(on_behalf_of=user), document_id=document_id
    ).exists()


def summary(user: User) -> dict[str, int]:
    """Badge counts in one query: open tasks, overdue ones, unread ones."""
    now = timezone.now()
    counts = Task.objects.filter(assignee=user, state=TaskState.OPEN).aggregate(
        todo=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        unread=Count("id", filter=Q(read_at__isnull=True)),
    )
    return {key: int(counts[key] or 0) for key in ("todo", "overdue", "unread")}


def current_instance(document_id: int) -> WorkflowInstance | None:
    return (
        WorkflowInstance.objects.filter(document_id=document_id)
        .order_by("-started_at", "-id")
        .first()
    )


# --- templates -----------------------------------------------------------------------------


def _ancestor_ids(unit: Any) -> list[int]:
    return [int(step) for step in unit.path.split(".") if step]


def templates_usable_by(unit: Any, *, include_inactive: bool = False) -> QuerySet:
    """Templates a document of ``unit`` may use: the unit's own and its ancestors'."""
    from django.db.models import Prefetch

    from api.workflow.models import TemplateStep, WorkflowTemplate

    queryset = WorkflowTemplate.objects.filter(unit_id__in=_ancestor_ids(unit))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.select_related("unit").prefetch_related(
        Prefetch(
            "steps",
            queryset=TemplateStep.objects.select_related("post", "user").order_by("order"),
        )
    )


def can_view_template(user: User, template: Any) -> bool:
    """Usable by the user's unit, or the user administers the template's unit."""
    from api.accounts.roles import can_manage_unit

    unit_path = getattr(user.unit, "path", "")
    return unit_path.startswith(template.unit.path) or can_manage_unit(user, template.unit)


def template_or_404(user: User, template_id: int, action: str = "workflow_template.view"):
    template = None
    if isinstance(template_id, int) and 0 < template_id < 2**63:
        template = templates_usable_by_any().filter(pk=template_id).first()
    if template is None or not can_view_template(user, template):
        record_denied(
            action, actor=user, object_type="workflow.workflowtemplate", object_id=template_id
        )
        raise NotFound()
    return template


USUAL_TEMPLATE_DAYS = 180


def usual_template_id(unit: Any, direction: str) -> int | None:
    """The unit's usual template for a direction (the clerk's picker starts on it): the
    name its documents' flows used most in the last ``USUAL_TEMPLATE_DAYS`` days, by
    name because an edit makes a new version (copy on write); that name's active usable
    version, the unit's own before an ancestor's. None when the unit has no history."""
    since = timezone.now() - timedelta(days=USUAL_TEMPLATE_DAYS)
    used = list(
        WorkflowInstance.objects.filter(
            document__unit=unit, template__direction=direction, started_at__gte=since
        )
        .values("template__name")
        .annotate(times=Count("id"))
        .order_by("-times", "template__name")
        .values_list("template__name", flat=True)[:5]
    )
    if not used:
        return None
    # Nearest unit last, so a nearer ancestor's version wins over a farther one's.
    usable = {
        (t.name, t.unit_id == unit.pk): t.pk
        for t in templates_usable_by(unit)
        .filter(direction=direction, name__in=used)
        .prefetch_related(None)
        .order_by("unit__path", "-version")
    }
    for name in used:
        found = usable.get((name, True)) or usable.get((name, False))
        if found:
            return found
    return None


def templates_usable_by_any() -> QuerySet:
    from django.db.models import Prefetch

    from api.workflow.models import TemplateStep, WorkflowTemplate

    return WorkflowTemplate.objects.select_related("unit").prefetch_related(
        Prefetch(
            "steps",
            queryset=TemplateStep.objects.select_related("post", "user").order_by("order"),
        )
    )
