"""Models of api.integrations.emergency. Docs: docs/integrations.md#emergency.

* ``DutyAssignment`` — the duty roster (值班表): one officer on one shift of one day in
  one unit, kept by the unit's admins.
* ``HandlingRecord`` — GovDesk's handling record of one emergency event pushed by the
  command system (应急指挥): its newest facts, the duty officers told, and who
  acknowledged it. ``EventUpdate`` — every version the command system sent, one row per
  sequence number, read in sequence order whatever order they arrived in.

Rows change only in api/integrations/emergency/actions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Shift(models.TextChoices):
    DAY = "day", "白班 08:00–18:00"
    NIGHT = "night", "夜班 18:00–次日08:00"


class DutyAssignment(models.Model):
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(help_text="the day the shift starts (Asia/Shanghai)")
    shift = models.CharField(max_length=8, choices=Shift.choices)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duty_assignments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "day", "shift", "officer"], name="duty_unique_officer_shift"
            )
        ]
        indexes = [models.Index(fields=["unit", "day", "shift"], name="duty_unit_day_idx")]


class EventLevel(models.TextChoices):
    # The four levels of a public emergency (突发事件分级).
    I = "I", "特别重大"  # noqa: E741 - the level's own name
    II = "II", "重大"
    III = "III", "较大"
    IV = "IV", "一般"


class HandlingState(models.TextChoices):
    OPEN = "open", "待签收"
    ACKNOWLEDGED = "acknowledged", "已签收"


class HandlingRecord(models.Model):
    event_id = models.CharField(max_length=64, unique=True, help_text="the command system's id")
    sequence = models.PositiveIntegerField(help_text="the newest sequence applied to the facts")
    event_type = models.CharField(max_length=40)
    level = models.CharField(max_length=4, choices=EventLevel.choices)
    place = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    summary = models.TextField()
    duty_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=12, choices=HandlingState.choices, default=HandlingState.OPEN
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]


class HandlingRecipient(models.Model):
    """A duty officer (or, with nobody on duty, a unit admin) told of the event."""

    record = models.ForeignKey(HandlingRecord, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_duty = models.BooleanField(help_text="False: told because nobody was on duty")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "user"], name="handling_unique_recipient")
        ]
        indexes = [models.Index(fields=["user", "record"], name="handling_recipient_user_idx")]


class EventUpdate(models.Model):
    record = models.ForeignKey(HandlingRecord, on_delete=models.CASCADE, related_name="updates")
    sequence = models.PositiveIntegerField()
    level = models.CharField(max_length=4, choices=EventLevel.choices)
    place = models.CharField(max_length=200)
    summary = models.TextField()
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="when the command system sent it"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["record", "sequence"], name="event_update_unique_seq")
        ]
