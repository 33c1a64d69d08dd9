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


class HolidayArrangement(models.Model):
    """A State Council yearly holiday arrangement (节假日安排通知) imported into the
    override table (docs/workdays.md#yearly-arrangement). Its presence for a year
    means that year's calendar is published even when the ``holidays`` package does
    not have it yet."""

    year = models.PositiveSmallIntegerField(unique=True)
    notice = models.CharField(max_length=200, blank=True, help_text="e.g. 国办发明电〔2026〕7号")
    day_count = models.PositiveSmallIntegerField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year} {self.notice}"
