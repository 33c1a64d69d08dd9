"""Fixtures of the base data tests: the fake platform on loopback, the catalogue applied,
a grant. Docs: docs/integrations.md#base-data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from api.integrations.basedata.catalogue import apply_entry
from api.integrations.basedata.models import AccessRequest, Dataset, RequestStatus
from api.integrations.testing import configure, run_fake
from cityfakes.basedata import BaseDataFake, catalogue

SECRET = "basedata-test-secret"
POPULATION = "population.residents"


def owners(org) -> dict[str, str]:
    """Every dataset owned by the office (alice is its unit admin)."""
    code = org.office.code
    return {db: code for db in ("population", "legal_entity", "natural_resources", "macro_economy")}


@pytest.fixture
def fake(org, monkeypatch) -> Iterator[BaseDataFake]:
    handler = BaseDataFake(SECRET, owners=owners(org))
    with run_fake(lambda: handler) as url:
        configure(monkeypatch, "basedata", url, SECRET)
        yield handler


@pytest.fixture
def datasets(org) -> dict[str, Dataset]:
    return {entry["id"]: apply_entry(entry) for entry in catalogue(owners(org))}


def grant(dataset: Dataset, user, *, days: int = 30, level: str = "masked", start_offset: int = 0):
    """An approved request, written directly (the flow itself is tested on its own)."""
    day = timezone.localdate() + timedelta(days=start_offset)
    return AccessRequest.objects.create(
        dataset=dataset,
        requester=user,
        unit_id=user.unit_id,
        purpose="测试",
        access_level=level,
        starts_on=day,
        ends_on=day + timedelta(days=days),
        status=RequestStatus.APPROVED,
        decided_at=timezone.now(),
    )
