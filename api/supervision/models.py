"""Supervision models (督办): supervised items, their milestones, progress reports and
urges. Docs: docs/supervision.md.

Rows change only in api/supervision/actions.py. ``light`` is stored so that lists can
filter and paginate on it in SQL; it is recomputed by every action that changes an
item and by the beat task ``refresh_supervision_lights`` (docs/supervision.md#lights).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Source(models.TextChoices):
    DOCUMENT = "document", "公文督办"
    INSTRUCTION = "instruction", "领导批示"
    MANUAL = "manual", "手工立项"


class ItemState(models.TextChoices):
    OPEN = "open", "督办中"
    CLOSED = "closed", "已办结"


class Light(models.TextChoices):
    GREEN = "green", "绿灯"
    YELLOW = "yellow", "黄灯"
    RED = "red", "红灯"


class SupervisedItem(models.Model):
    """One supervised matter: an owner unit must deliver by ``deadline``."""

    title = models.CharField(max_length=200)
    source = models.CharField(max_length=12, choices=Source.choices)
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instruction = models.TextField(blank=True, help_text="the leader's instruction (批示)")
    owner_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="supervised_items"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    state = models.CharField(max_length=8, choices=ItemState.choices, default=ItemState.OPEN)
    progress = models.PositiveSmallIntegerField(default=0, help_text="latest reported percent")
    light = models.CharField(max_length=8, choices=Light.choices, default=Light.GREEN)
    light_updated_at = models.DateTimeField(default=timezone.now)
    escalations = models.PositiveSmallIntegerField(default=0)
    last_escalated_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner_unit", "state", "-id"], name="supervision_owner_idx"),
            models.Index(fields=["state", "light", "-id"], name="supervision_light_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="supervision_progress_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"supervised item {self.pk} {self.title[:30]}"

    @property
    def unit_id(self) -> int:
        """The audit log files events about an item under its owner unit."""
        return self.owner_unit_id


class Milestone(models.Model):
    item = models.ForeignKey(SupervisedItem, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    due = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due", "id"]


class ProgressReport(models.Model):
    item = models.ForeignKey(SupervisedItem, on_delete=models.CASCADE, related_name="reports")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    percent = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="progress_report_percent")
        ]


class Urge(models.Model):
    """A supervisor's urge (催办) of an item; each one notifies the owner's leaders and
    clerks once (dedup key ``supervision_urge:<id>``)."""

    item = models.ForeignKey(SupervisedItem, on_delete=models.CASCADE, related_name="urges")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="user ids notified")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
