"""Applying the city management system's cases. Docs: docs/integrations.md#city-management.

``apply_case(source_id, payload)`` is the connector's ``handle``: the layer calls it in a
transaction with the receipt row locked. A receipt's source id is ``<case id>@<version>``
(one receipt per version of a case, so an update is not taken for a duplicate); the case
row is matched by the case id in the payload and locked, and only a newer version
replaces it — an older or equal one arriving late changes nothing. A payload that
breaks the contract raises ``InvalidCase`` (the layer dead-letters it: retrying cannot
help).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.integrations import payloads
from api.integrations.citymgmt.models import CaseState, CityCase


class InvalidCase(ValueError):
    """The payload breaks the contract of docs/integrations.md#city-management."""


@dataclass(frozen=True)
class CaseData:
    case_id: str
    version: int
    category: str
    district: str
    state: str
    reported_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    source_updated_at: datetime | None


def parse_case(payload: dict[str, Any]) -> CaseData:
    if not isinstance(payload, dict):
        raise InvalidCase("a case is a JSON object")
    version = payloads.positive_int(payload, "version", invalid=InvalidCase)
    state = payload.get("state")
    if state not in CaseState.values:
        raise InvalidCase(f"state: one of {', '.join(CaseState.values)}")
    reported_at = payloads.when(payload, "reported_at", required=True, invalid=InvalidCase)
    assert reported_at is not None  # required above
    return CaseData(
        case_id=payloads.text(payload, "id", 64, invalid=InvalidCase),
        version=version,
        category=payloads.text(payload, "category", 60, invalid=InvalidCase),
        district=payloads.text(payload, "district", 60, invalid=InvalidCase),
        state=str(state),
        reported_at=reported_at,
        deadline_at=payloads.when(payload, "deadline_at", invalid=InvalidCase),
        closed_at=payloads.when(payload, "closed_at", invalid=InvalidCase),
        source_updated_at=payloads.when(payload, "updated_at", invalid=InvalidCase),
    )


def source_id_of(payload: dict[str, Any]) -> str:
    """The receipt id of one version of a case: ``<case id>@<version>``."""
    case = parse_case(payload)
    return f"{case.case_id}@{case.version}"


def apply_case(source_id: str, payload: dict[str, Any]) -> str:
    """Store the case if this version is newer than the stored one. Returns what
    happened: ``created``, ``updated`` or ``stale`` (an older or equal version)."""
    case = parse_case(payload)
    fields = {
        "version": case.version,
        "category": case.category,
        "district": case.district,
        "state": case.state,
        "reported_at": case.reported_at,
        "deadline_at": case.deadline_at,
        "closed_at": case.closed_at,
        "source_updated_at": case.source_updated_at,
        "received_at": timezone.now(),
    }
    with transaction.atomic():
        current = CityCase.objects.select_for_update().filter(case_id=case.case_id).first()
        if current is None:
            try:
                # A savepoint: two workers applying two versions of a new case race here;
                # the loser re-reads and compares versions below.
                with transaction.atomic():
                    CityCase.objects.create(case_id=case.case_id, **fields)
                return "created"
            except IntegrityError:
                current = CityCase.objects.select_for_update().get(case_id=case.case_id)
        if case.version <= current.version:
            return "stale"
        CityCase.objects.filter(pk=current.pk).update(**fields)
        return "updated"
