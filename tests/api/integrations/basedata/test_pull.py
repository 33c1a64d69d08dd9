"""The catalogue pulled from the fake platform through the connector layer: cursor,
versions, a bad entry as a dead letter replayed after the fix, a signed client.
Docs: docs/integrations.md#base-data."""

from __future__ import annotations

import copy

import pytest

from api.integrations import actions
from api.integrations.basedata.models import Dataset
from api.integrations.models import Connector, ReceivedRecord, RecordState
from api.integrations.testing import configure, process_all
from tests.api.integrations.basedata.conftest import POPULATION
from tests.personas import make_unit

pytestmark = pytest.mark.django_db


def test_the_catalogue_is_pulled_and_kept_in_version_order(org, fake, personas):
    assert actions.pull("basedata") == 4
    assert process_all("basedata") == 4
    assert Dataset.objects.count() == 4
    assert Connector.objects.get(name="basedata").cursor == "4"
    # Nothing new: nothing received.
    assert actions.pull("basedata") == 0
    # A new version of a dataset is a new record; a late older one changes nothing.
    entry = copy.deepcopy(fake.changes[0])
    fake.publish({**entry, "version": 3, "name": "常住人口基本信息（新版）"})
    fake.publish({**entry, "version": 2, "name": "过时的名称"})
    assert actions.pull("basedata") == 2
    process_all("basedata")
    dataset = Dataset.objects.get(source_id=POPULATION)
    assert (dataset.version, dataset.name) == (3, "常住人口基本信息（新版）")


def test_an_entry_for_an_unknown_unit_is_a_dead_letter_until_fixed(org, fake, personas):
    entry = copy.deepcopy(fake.changes[1])
    fake.publish({**entry, "id": "legal_entity.branches", "owner_unit_code": "C-NEW"})
    actions.pull("basedata")
    process_all("basedata")
    dead = ReceivedRecord.objects.get(connector="basedata", state=RecordState.DEAD)
    assert dead.source_id == "legal_entity.branches@1"
    assert "C-NEW" in dead.last_error
    make_unit("新设单位", "bureau", org.city, code="C-NEW")
    actions.replay(dead.pk, personas["ivy"])
    process_all("basedata")
    assert Dataset.objects.filter(source_id="legal_entity.branches").exists()


def test_a_wrong_secret_is_refused_by_the_platform(org, fake, monkeypatch):
    url = __import__("os").environ["GOVDESK_INTEGRATION_BASEDATA_URL"]
    configure(monkeypatch, "basedata", url, "not-the-secret")
    assert actions.pull("basedata") == 0
    row = Connector.objects.get(name="basedata")
    assert row.error_count == 1 and "401" in row.last_error
    assert not Dataset.objects.exists()
