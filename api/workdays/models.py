"""Calendar overrides (docs/workdays.md#override-table).

An override decides one date: a ``holiday`` (non-working) or a ``workday``
(working, e.g. a 调休 make-up Saturday). It wins over the ``holidays`` package and
over the weekend rule. The city IT admin maintains it for years the State Council
has not published yet, or to correct a local arrangement.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class OverrideKind(models.TextChoices):
    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "上班"


class CalendarOverride(models.Model):
    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=OverrideKind.choices)
    name = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Declared so type checkers see it (the field named ``date`` confuses the plugin).
    objects: models.Manager[CalendarOverride] = models.Manager()

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"
