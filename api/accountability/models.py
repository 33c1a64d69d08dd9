"""Accountability cases (问责案件). Docs: docs/accountability.md.

Rows change only in api/accountability/actions.py. ``linked`` is a snapshot of the
records the case was opened from, taken when it was opened: the case keeps saying what
the supervisor saw even after the item is closed or the document completed.
``source_key`` names the source (``supervision_item:12``, ``document:5``,
``statistic:3:2026-01-01:2026-12-31:overdue``); at most one undecided case per source
(a partial unique constraint), so a retried open cannot make a second case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SourceKind(models.TextChoices):
    SUPERVISION_ITEM = "supervision_item", "督办事项红灯"
    OVERDUE_DOCUMENT = "overdue_document", "公文超期"
    STATISTIC = "statistic", "效能统计"


class CaseStatus(models.TextChoices):
    OPENED = "opened", "已立案"
    FINDINGS_RECORDED = "findings_recorded", "已查明"
    DECIDED = "decided", "已决定（结案）"


class OutcomeKind(models.TextChoices):
    NO_ACTION = "no_action", "不予问责"
    REMINDER_TALK = "reminder_talk", "提醒谈话"
    CIRCULATED_CRITICISM = "circulated_criticism", "通报批评"
    ADMONITION_TALK = "admonition_talk", "诫勉谈话"
    REFERRED_TO_DISCIPLINE = "referred_to_discipline", "移送纪委（监察局）"


class AccountabilityCase(models.Model):
    """One accountability case about one unit."""

    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="accountability_cases"
    )
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    source_key = models.CharField(max_length=120)
    # SET_NULL: a case outlives its source (``linked`` and ``source_key`` keep it).
    supervised_item = models.ForeignKey(
        "supervision.SupervisedItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    reason = models.TextField(help_text="why the supervisor opened the case")
    linked = models.JSONField(default=dict, help_text="snapshot of the linked records")
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPENED)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    findings = models.TextField(blank=True)
    findings_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    findings_at = models.DateTimeField(null=True, blank=True)
    outcome_kind = models.CharField(
        max_length=24, choices=OutcomeKind.choices, blank=True, default=""
    )
    outcome_text = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["unit", "status", "-id"], name="accountability_unit_idx"),
            models.Index(fields=["unit", "opened_at"], name="accountability_opened_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(status="decided"),
                name="accountability_one_open_case_per_source",
            ),
            models.CheckConstraint(
                condition=Q(status="decided", decided_at__isnull=False)
                | (~Q(status="decided") & Q(outcome_kind="")),
                name="accountability_outcome_only_when_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"accountability case {self.pk} {self.title[:30]}"
