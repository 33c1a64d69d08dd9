"""Information submission and e-journals (信息报送). Docs: docs/submissions.md.

A unit drafts a ``Submission`` (报送信息), its leader approves it for sending, and it
is submitted to one or more ``EditorialOffice``s: one ``Delivery`` per office (unique,
so the same item is never sent twice to one office). The office's editors decide each
delivery once: adopt it into a ``JournalIssue`` (采用), merge it into another adopted
item (综合采用) or return it with a reason (退回). An issue is compiled, approved by an
office leader and published; its number (第N期) comes from a locked ``JournalCounter``
row per journal and year, so numbers are gap-free. Leaders write ``Instruction``s
(批示). Every point a unit earns is a ``ScoreEntry`` naming the ``ScoringRule`` and
the event that produced it. Nothing here writes on its own: see actions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EditorialOffice(models.Model):
    """An office that receives items and edits journals (市政府办公室信息科…)."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120, unique=True)
    editors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    leaders = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Journal(models.Model):
    """A journal an office edits (《新城政务信息》, 《领导参阅》); ``level`` picks the
    scoring rule of an adoption into it."""

    office = models.ForeignKey(EditorialOffice, on_delete=models.PROTECT, related_name="journals")
    name = models.CharField(max_length=120)
    level = models.CharField(max_length=20, default="city")
    distribution = models.JSONField(
        default=dict, blank=True, help_text='{"报": "...", "送": "...", "发": "..."}'
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "name"], name="journal_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class JournalCounter(models.Model):
    """The last issue number of a journal in a year; locked by every publish."""

    journal = models.ForeignKey(Journal, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journal", "year"], name="journal_counter_unique")
        ]


class IssueState(models.TextChoices):
    COMPILING = "compiling", "编辑中"
    APPROVED = "approved", "已审核"
    PUBLISHED = "published", "已发布"


class JournalIssue(models.Model):
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="issues")
    state = models.CharField(
        max_length=10, choices=IssueState.choices, default=IssueState.COMPILING
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    pdf_path = models.CharField(max_length=300, blank=True, default="")
    pdf_sha256 = models.CharField(max_length=64, blank=True, default="")
    pages = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["journal", "year", "number"], name="journal_issue_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.journal.name} {self.year}年第{self.number}期"


class SubmissionState(models.TextChoices):
    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已审核"
    SUBMITTED = "submitted", "已报送"


class Call(models.Model):
    """A call for items (约稿): a topic, a deadline, the units asked."""

    office = models.ForeignKey(EditorialOffice, on_delete=models.PROTECT, related_name="calls")
    topic = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    deadline = models.DateTimeField()
    units = models.ManyToManyField("accounts.Unit", related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]


class Submission(models.Model):
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    body = models.TextField()
    category = models.CharField(max_length=40, blank=True, default="")
    contact = models.CharField(max_length=120, blank=True, default="")
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.PROTECT, related_name="answers"
    )
    attachment_ids = models.JSONField(default=list, blank=True)
    # jieba tokens of title and body (api/common/search.py), set by the actions.
    search_text = models.TextField(blank=True, default="")
    state = models.CharField(
        max_length=10, choices=SubmissionState.choices, default=SubmissionState.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["unit", "-id"], name="submission_unit_idx")]

    def __str__(self) -> str:
        return self.title


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待处理"
    ADOPTED = "adopted", "已采用"
    MERGED = "merged", "综合采用"
    RETURNED = "returned", "已退回"


class Delivery(models.Model):
    """One submission at one editorial office, and the editors' decision on it."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="deliveries")
    office = models.ForeignKey(EditorialOffice, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    late = models.BooleanField(default=False)
    issue = models.ForeignKey(
        JournalIssue, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    position = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "office"], name="delivery_unique_office")
        ]
        indexes = [models.Index(fields=["office", "state", "-id"], name="delivery_office_idx")]


class Instruction(models.Model):
    """A leader's instruction (批示) on an item (a delivery)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="instructions")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class ScoreEvent(models.TextChoices):
    ADOPTED = "adopted", "采用"
    MERGED = "merged", "综合采用"
    INSTRUCTION = "instruction", "领导批示"
    LATE_ANSWER = "late_answer", "约稿逾期"


class ScoringRule(models.Model):
    """Points per event for one office and year (docs/submissions.md#scoring)."""

    office = models.ForeignKey(EditorialOffice, on_delete=models.PROTECT, related_name="rules")
    year = models.PositiveSmallIntegerField()
    event = models.CharField(max_length=20, choices=ScoreEvent.choices)
    points = models.IntegerField()
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["office", "year", "event"]
        constraints = [
            models.UniqueConstraint(fields=["office", "year", "event"], name="rule_unique_event")
        ]


class ScoreEntry(models.Model):
    """Points one unit earned from one event under one rule; ``key`` makes it once."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    rule = models.ForeignKey(ScoringRule, on_delete=models.PROTECT, related_name="entries")
    event = models.CharField(max_length=20, choices=ScoreEvent.choices)
    points = models.IntegerField()
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="scores")
    instruction = models.ForeignKey(
        Instruction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["year", "month", "unit"], name="score_period_idx")]
