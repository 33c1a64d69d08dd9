"""Models of api.integrations.citymgmt. Docs: docs/integrations.md#city-management.

``CityCase`` is GovDesk's copy of one case (案件) of the digital city management
system, the newest version seen. Rows change only in api/integrations/citymgmt/cases.py
(``apply_case``, called by the connector layer with the case row's receipt locked).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class CaseState(models.TextChoices):
    # The flow of a digital city management case (受理 → 立案 → 派遣 → 处置 → 核查 → 结案).
    REPORTED = "reported", "上报"
    REGISTERED = "registered", "立案"
    DISPATCHED = "dispatched", "派遣"
    HANDLING = "handling", "处置"
    VERIFYING = "verifying", "核查"
    CLOSED = "closed", "结案"
    CANCELLED = "cancelled", "作废"


FINISHED_STATES = (CaseState.CLOSED, CaseState.CANCELLED)


class CityCase(models.Model):
    case_id = models.CharField(max_length=64, unique=True, help_text="the source system's id")
    version = models.PositiveIntegerField(
        help_text="the source's version; only a newer one applies"
    )
    category = models.CharField(max_length=60)
    district = models.CharField(max_length=60)
    state = models.CharField(max_length=12, choices=CaseState.choices)
    reported_at = models.DateTimeField()
    deadline_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(
                fields=["deadline_at"],
                condition=~Q(state__in=["closed", "cancelled"]),
                name="citycase_open_deadline_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"city case {self.case_id} v{self.version} {self.state}"
