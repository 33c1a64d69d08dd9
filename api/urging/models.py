"""Urge records (催办记录): every automatic and manual urge, kept for statistics.

Docs: docs/urging.md#records. One row per urge sent (or decided and de-duplicated by
the notification outbox, then ``notification_id`` is null). The unique constraints
make the beat scan safe to run twice: a yellow urge exists at most once per task, an
automatic red urge at most once per task and working day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UrgeKind(models.TextChoices):
    AUTO_YELLOW = "auto_yellow", "临期提醒"  # 75 % of the allowed working time used
    AUTO_RED = "auto_red", "超期催办"  # past the deadline
    MANUAL = "manual", "人工催办"  # by the sender, the drafter or a supervisor


class UrgeRecord(models.Model):
    task = models.ForeignKey("workflow.Task", on_delete=models.CASCADE, related_name="urges")
    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="urges"
    )
    # The urged person's unit at the time: statistics ask "which unit was urged".
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=UrgeKind.choices)
    urged = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="urges_received"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="urges_sent",
        help_text="null for automatic urges",
    )
    message = models.CharField(max_length=200, blank=True)
    task_round = models.PositiveIntegerField(default=0)
    # Shanghai date of an automatic urge: the red cap is "once per working day".
    work_day = models.DateField(null=True, blank=True)
    notification_id = models.BigIntegerField(
        null=True, blank=True, help_text="api.notify Notification; null when de-duplicated"
    )
    elapsed_fraction = models.FloatField(
        null=True, blank=True, help_text="working time used ÷ allowed when urged (1.0 = due)"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "kind", "created_at"], name="urge_unit_kind_idx"),
            models.Index(fields=["created_at", "kind"], name="urge_period_idx"),
            models.Index(fields=["task", "kind", "created_at"], name="urge_task_idx"),
            models.Index(fields=["by", "task", "created_at"], name="urge_by_task_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(kind="auto_yellow"),
                name="urge_yellow_once_per_task",
            ),
            models.UniqueConstraint(
                fields=["task", "work_day"],
                condition=Q(kind="auto_red"),
                name="urge_red_once_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"urge {self.pk} {self.kind} task {self.task_id}"
