"""Workflow models: templates (per unit), instances (one run of a document through a
template) and tasks (one person's piece of work at one step).

Docs: docs/workflow.md. State changes happen only in api/workflow/actions/.
A running instance keeps a snapshot of its template's steps (``steps``), and a
template that is in use is copied on write (views/templates.py, actions/templates.py), so
editing a template never changes a document already on its way.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Direction(models.TextChoices):
    OUTGOING = "outgoing", "发文"
    INCOMING = "incoming", "收文"


class StepKind(models.TextChoices):
    REVIEW = "review", "核稿"
    COUNTERSIGN = "countersign", "会签"
    SIGN_OFF = "sign_off", "签发"
    NUMBER = "number", "编号"
    SEAL = "seal", "用印"
    DISTRIBUTE = "distribute", "分发"
    CIRCULATE = "circulate", "传阅"
    HANDLE = "handle", "承办"
    REPLY = "reply", "答复"
    SIGN_FOR = "sign_for", "签收"
    REGISTER = "register", "登记"
    PRELIMINARY_REVIEW = "preliminary_review", "初审"


# Steps with several people at once (the others have exactly one assignee).
MULTI_KINDS = frozenset({StepKind.COUNTERSIGN, StepKind.CIRCULATE})
# Steps that may run with no human (assignee_kind "auto").
# A distribute step (分发) is never automatic: it is completed by the exchange dispatch
# a clerk makes (docs/workflow.md#step-kinds).
AUTO_KINDS = frozenset({StepKind.NUMBER})


class AssigneeKind(models.TextChoices):
    POST = "post", "岗位"
    USER = "user", "指定人员"
    DRAFTER_CHOICE = "drafter_choice", "拟稿人选择"
    AUTO = "auto", "自动（无需人工）"


class CountersignMode(models.TextChoices):
    PARALLEL = "parallel", "并行会签"
    SEQUENTIAL = "sequential", "顺序会签"
    ANY = "any", "任一会签"


class WorkflowTemplate(models.Model):
    """A unit's flow for a direction and a set of document types. Usable by the unit
    and every unit below it. ``version``/``replaces``: editing a template that
    documents already use creates a new row (copy on write) and retires the old one."""

    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="workflow_templates"
    )
    name = models.CharField(max_length=100)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    doc_types = models.JSONField(default=list, blank=True, help_text="[] = every type")
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit_id", "name", "id"]
        indexes = [models.Index(fields=["unit", "is_active"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class TemplateStep(models.Model):
    template = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    name = models.CharField(max_length=40)
    assignee_kind = models.CharField(max_length=20, choices=AssigneeKind.choices)
    post = models.ForeignKey(
        "accounts.Post", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    choice_key = models.CharField(max_length=40, blank=True)
    required = models.BooleanField(
        default=True, help_text="a drafter_choice step left empty is skipped when False"
    )
    countersign_mode = models.CharField(
        max_length=12, choices=CountersignMode.choices, default=CountersignMode.PARALLEL
    )
    standard_opinion = models.CharField(max_length=40, blank=True)
    batchable = models.BooleanField(default=False)
    time_limit_days = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["template_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "order"], name="template_step_order_unique")
        ]

    def snapshot(self) -> dict:
        """The step as the engine reads it (copied into each instance at submit)."""
        return {
            "order": self.order,
            "kind": self.kind,
            "name": self.name,
            "assignee_kind": self.assignee_kind,
            "post_id": self.post_id,
            "user_id": self.user_id,
            "choice_key": self.choice_key,
            "required": self.required,
            "countersign_mode": self.countersign_mode,
            "standard_opinion": self.standard_opinion,
            "batchable": self.batchable,
            "time_limit_days": (
                float(self.time_limit_days) if self.time_limit_days is not None else None
            ),
        }


class InstanceState(models.TextChoices):
    RUNNING = "running", "流转中"
    COMPLETED = "completed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"
    RETURNED = "returned", "已退回"


class WorkflowInstance(models.Model):
    """One run of a document through a template. A document has at most one running
    instance; after a withdrawal or a return to the drafter it may be submitted again
    (a new instance; the old one stays in the trail)."""

    document = models.ForeignKey(
        "documents.Document", on_delete=models.PROTECT, related_name="workflow_instances"
    )
    template = models.ForeignKey(WorkflowTemplate, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=10, choices=InstanceState.choices, default=InstanceState.RUNNING
    )
    current_step_order = models.PositiveSmallIntegerField(default=0)
    steps = models.JSONField(default=list, help_text="snapshot of the template's steps")
    participants = models.JSONField(default=dict, blank=True)
    # Each opening of a step is a new round; the tasks of the current round decide
    # when the step is complete and whether it is still untouched (withdraw).
    round = models.PositiveIntegerField(default=0)
    step_sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="whose action opened the current step (may withdraw it while untouched)",
    )
    step_opener = models.ForeignKey(
        "workflow.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the task whose action opened the current step; empty after submit",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(state="running"),
                name="workflow_one_running_instance_per_document",
            )
        ]

    def step(self, order: int) -> dict | None:
        for step in self.steps:
            if step["order"] == order:
                return step
        return None


class TaskState(models.TextChoices):
    WAITING = "waiting", "等待中"  # a later turn of a sequential countersign
    OPEN = "open", "待办"
    DONE = "done", "已办"
    RETURNED = "returned", "已退回"
    TRANSFERRED = "transferred", "已转交"
    CANCELLED = "cancelled", "已取消"


URGENCY_RANK = {"normal": 0, "urgent": 1, "very_urgent": 2}


class Task(models.Model):
    """One person's work at one step. ``assignee`` must act now; ``on_behalf_of`` is
    A when B (A's backup) holds the task for A. ``assignee`` is empty only for a step
    the system performed itself (an automatic number or distribute step)."""

    instance = models.ForeignKey(WorkflowInstance, on_delete=models.CASCADE, related_name="tasks")
    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="workflow_tasks"
    )
    step_order = models.PositiveSmallIntegerField()
    step_kind = models.CharField(max_length=20, choices=StepKind.choices)
    step_name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0, help_text="turn in a sequential step")
    round = models.PositiveIntegerField(default=0)
    opened_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="workflow_tasks",
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.OPEN)
    received_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    acted_at = models.DateTimeField(null=True, blank=True)
    working_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="time spent: working seconds received→acted minus paused"
    )
    action = models.CharField(max_length=30, blank=True)
    opinion = models.TextField(blank=True)
    # How the actor confirmed the action beyond the session token: "passkey" when a
    # WebAuthn assertion with user verification was checked (step-up); "" otherwise.
    confirmed_with = models.CharField(max_length=20, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    batchable = models.BooleanField(default=False)
    urgency = models.CharField(max_length=12, default="normal")
    urgency_rank = models.PositiveSmallIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["assignee", "state", "-urgency_rank", "due_at"], name="task_todo_idx"
            ),
            models.Index(fields=["assignee", "state", "-acted_at"], name="task_done_idx"),
            models.Index(fields=["on_behalf_of", "state"], name="task_behalf_idx"),
            models.Index(fields=["instance", "step_order", "state"], name="task_step_idx"),
            models.Index(fields=["document", "assignee"], name="task_document_idx"),
            # The deadline scan of urging (docs/urging.md) reads open tasks by due_at;
            # the statistics (docs/supervision.md) read a period by acted_at.
            models.Index(
                fields=["due_at"], condition=models.Q(state="open"), name="task_open_due_idx"
            ),
            models.Index(fields=["acted_at"], name="task_acted_idx"),
        ]

    def __str__(self) -> str:
        return f"task {self.pk} {self.step_kind} {self.state}"

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.state == TaskState.OPEN
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class UnitTimeLimit(models.Model):
    """A unit's own document time limits (限时办结, docs/workflow.md#document-time-limits),
    for the unit and every unit below it; the nearest unit with a row wins, a row for
    the document's type before the unit's row for every type (``doc_type`` "").
    Without any row the limits are GOVDESK_DEADLINE_ORDINARY_DAYS (1) and
    GOVDESK_DEADLINE_COUNTERSIGN_DAYS (3); urgency scales either (api/workdays)."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="+")
    doc_type = models.CharField(max_length=20, blank=True, help_text="'' = every type")
    ordinary_days = models.DecimalField(max_digits=4, decimal_places=1)
    countersign_days = models.DecimalField(
        max_digits=4, decimal_places=1, help_text="when several leaders countersign"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit_id", "doc_type"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "doc_type"], name="unit_time_limit_unique")
        ]

    def __str__(self) -> str:
        return f"time limit {self.unit_id} {self.doc_type or '*'}"
