"""The city management connector against its loopback fake: pulls follow the cursor,
each case version is received once, a later change replaces the stored case, an older
one never does. Docs: docs/integrations.md#city-management."""

from __future__ import annotations

import pytest

from api.integrations import actions
from api.integrations.citymgmt.connector import PAGE_SIZE
from api.integrations.citymgmt.models import CityCase
from api.integrations.models import Connector, ReceivedRecord, RecordState
from api.integrations.testing import configure, process_all, run_fake
from cityfakes.citymgmt import CityManagementFake, demo_cases

pytestmark = pytest.mark.django_db
SECRET = "citymgmt-test-secret"


@pytest.fixture
def fake(monkeypatch):
    system = CityManagementFake(SECRET, demo_cases(count=PAGE_SIZE + 30))
    with run_fake(lambda: system) as url:
        configure(monkeypatch, "citymgmt", url, SECRET)
        yield system


def test_pulls_follow_the_cursor_and_apply_each_version_once(fake):
    assert actions.pull("citymgmt") == PAGE_SIZE + 30  # two pages in one pull
    assert fake.requests == 2
    assert Connector.objects.get(name="citymgmt").cursor == str(PAGE_SIZE + 30)
    assert process_all("citymgmt") == PAGE_SIZE + 30
    assert CityCase.objects.count() == PAGE_SIZE + 30
    # Nothing changed: the next pull asks after the cursor and gets nothing.
    assert actions.pull("citymgmt") == 0
    # A case changes twice in the source: only its newest version is served.
    fake.put({"id": "CG2026000002", "state": "verifying"})
    fake.put({"id": "CG2026000002", "state": "closed", "closed_at": "2026-12-07T12:00:00+08:00"})
    assert actions.pull("citymgmt") == 1
    process_all("citymgmt")
    case = CityCase.objects.get(case_id="CG2026000002")
    assert (case.version, case.state) == (3, "closed")
    assert ReceivedRecord.objects.filter(connector="citymgmt", source_id="CG2026000002@3").exists()


def test_an_older_version_received_late_does_not_overwrite(fake):
    actions.pull("citymgmt")
    process_all("citymgmt")
    newer = fake.put({"id": "CG2026000004", "state": "closed"})
    actions.pull("citymgmt")
    process_all("citymgmt")
    # The version-1 payload again, under a new receipt (as after a source's rollback).
    older = {**demo_cases(count=PAGE_SIZE + 30)[3], "state": "reported"}
    actions.receive("citymgmt", "CG2026000004@1-late", older, via="test")
    process_all("citymgmt")
    case = CityCase.objects.get(case_id="CG2026000004")
    assert (case.version, case.state) == (newer["version"], "closed")


def test_a_broken_case_is_a_dead_letter_and_does_not_stop_the_feed(fake):
    fake.put({"id": "BROKEN1", "version": 1, "state": "lost"})
    actions.pull("citymgmt")
    process_all("citymgmt")
    dead = ReceivedRecord.objects.get(connector="citymgmt", state=RecordState.DEAD)
    assert "state" in dead.last_error
    assert CityCase.objects.count() == PAGE_SIZE + 30


def test_the_fake_refuses_an_unsigned_pull(fake):
    from urllib.error import HTTPError
    from urllib.request import urlopen

    url = actions.config_of("citymgmt").endpoint("/cases")
    with pytest.raises(HTTPError) as refused:
        urlopen(url, timeout=10)
    assert refused.value.code == 401
