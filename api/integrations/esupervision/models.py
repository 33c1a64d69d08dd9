"""Models of api.integrations.esupervision (电子监察). Docs: docs/integrations.md#e-supervision.

Rows change only in api/integrations/esupervision/actions.py. A ``ServiceItem`` is one
service item (办件) of the online-approval system; its five stage times are filled in by
stage events (``StageEvent``, one per event id) and never move back; ``Alert`` rows are
the 预警/黄牌/红牌 raised for it, one per item and level, each with the supervised item
(督办) it opened. ``UnitCode`` maps the approval system's unit codes to GovDesk units
where they differ from ``Unit.code`` (set by the integrator).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# The stages of a service item, in order (受理 → 承办 → 审核 → 批准 → 办结).
STAGES = ("accept", "handle", "review", "approve", "complete")
# The stages that last until the next one starts; "complete" is the end.
TIMED_STAGES = STAGES[:-1]
STAGE_LABELS = {
    "accept": "受理",
    "handle": "承办",
    "review": "审核",
    "approve": "批准",
    "complete": "办结",
}


class Stage(models.TextChoices):
    ACCEPT = "accept", "受理"
    HANDLE = "handle", "承办"
    REVIEW = "review", "审核"
    APPROVE = "approve", "批准"
    COMPLETE = "complete", "办结"


class Level(models.TextChoices):
    NOTICE = "notice", "预警"
    YELLOW = "yellow", "黄牌"
    RED = "red", "红牌"


LEVELS = ("notice", "yellow", "red")


class UnitCode(models.Model):
    """The approval system's code of a unit, when it is not the unit's ``Unit.code``."""

    code = models.CharField(max_length=40, unique=True)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.code} → {self.unit_id}"


class ServiceItem(models.Model):
    """One service item (办件) and its time against the legal time limit."""

    external_id = models.CharField(max_length=64, unique=True)
    service_name = models.CharField(max_length=200)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    unit_code = models.CharField(max_length=40)
    limit_days = models.PositiveSmallIntegerField(help_text="legal time limit, working days")
    accept_at = models.DateTimeField(null=True, blank=True)
    handle_at = models.DateTimeField(null=True, blank=True)
    review_at = models.DateTimeField(null=True, blank=True)
    approve_at = models.DateTimeField(null=True, blank=True)
    complete_at = models.DateTimeField(null=True, blank=True)
    # The furthest stage reached; an event of an earlier stage never lowers it.
    stage = models.CharField(max_length=10, choices=Stage.choices)
    # Working seconds each stage lasted (from its event to the next stage's event).
    accept_seconds = models.PositiveIntegerField(null=True, blank=True)
    handle_seconds = models.PositiveIntegerField(null=True, blank=True)
    review_seconds = models.PositiveIntegerField(null=True, blank=True)
    approve_seconds = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # Working seconds used against the limit, up to completion (or, while open, the
    # latest moment the item was evaluated at).
    used_seconds = models.PositiveIntegerField(default=0)
    on_time = models.BooleanField(null=True, blank=True, help_text="set at completion")
    level = models.CharField(max_length=8, choices=Level.choices, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["unit", "complete_at"], name="esup_item_unit_done_idx"),
            models.Index(fields=["complete_at", "id"], name="esup_item_open_idx"),
        ]

    def __str__(self) -> str:
        return f"service item {self.external_id}"

    def stage_at(self, stage: str):
        return getattr(self, f"{stage}_at")


class StageEvent(models.Model):
    """One stage event as received (a duplicate event id is stored once)."""

    event_id = models.CharField(max_length=64, unique=True)
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="events")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # False: the stage already had its time (a second event for it); kept for the record.
    applied = models.BooleanField(default=True)

    class Meta:
        ordering = ["occurred_at", "id"]


class Alert(models.Model):
    """预警 / 黄牌 / 红牌 of an item: once per item and level."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="alerts")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices)
    raised_at = models.DateTimeField(default=timezone.now)
    used_seconds = models.PositiveIntegerField()
    # Null until a supervisor covering the unit exists (the beat task retries).
    supervised_item = models.ForeignKey(
        "supervision.SupervisedItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "level"], name="esup_alert_once_per_level")
        ]
        indexes = [models.Index(fields=["unit", "raised_at"], name="esup_alert_unit_idx")]

    def __str__(self) -> str:
        return f"{self.level} alert of {self.item_id}"
