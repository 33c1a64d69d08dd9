"""1,000 e-supervision events — some duplicated, some out of order, some late — sent
through the signed webhook produce exactly the right stage times, alerts and supervised
items (docs/integrations.md#e-supervision).

The expected values are computed here from the generated scenario with the working-day
calendar (api/workdays) and the documented thresholds, not by the connector's code.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime

import pytest

from api.integrations.esupervision.models import Alert, ServiceItem, StageEvent
from api.integrations.testing import configure, post_webhook, process_all
from api.supervision.models import SupervisedItem
from api.workdays.deadlines import TZ, add_working_days, clock_start, working_seconds_between
from cityfakes.esupervision import STAGES, deliveries, generate_scenario

DAY = 86_400
SECRET = "scenario-secret"
NOTICE_PERCENT, RED_DAYS = 80, 3


def expected_of(item) -> dict:
    """What the item must end as, by the documented rules."""
    times = item.times
    stage_seconds = {
        stage: (
            working_seconds_between(times[stage], times[following])
            if stage in times and following in times
            else None
        )
        for stage, following in itertools.pairwise(STAGES)
    }
    completed = "complete" in times
    end = times["complete"] if completed else max(times.values())
    used = working_seconds_between(clock_start(times["accept"]), end)
    limit = item.limit_days * DAY
    if used > limit + RED_DAYS * DAY or (completed and used > limit):
        levels = ["notice", "yellow", "red"]
    elif used > limit:
        levels = ["notice", "yellow"]
    elif used * 100 >= limit * NOTICE_PERCENT:
        levels = ["notice"]
    else:
        levels = []
    return {
        "stage": [s for s in STAGES if s in times][-1],
        "stage_seconds": stage_seconds,
        "used": used,
        "due_at": add_working_days(times["accept"], item.limit_days),
        "on_time": (used <= limit) if completed else None,
        "levels": levels,
    }


@pytest.fixture
def webhook(monkeypatch):
    configure(monkeypatch, "esupervision", "http://127.0.0.1:9/", SECRET)


def post_signed(client, events: list[dict]) -> None:
    response = post_webhook(client, "esupervision", {"events": events}, SECRET)
    assert response.status_code == 202, response.content
    assert response.json()["received"] == len(events)


def test_a_thousand_events(org, personas, webhook, client):
    codes = ["C-OFF", "C-DRC", "C-E", "C-E-T"]
    scenario = generate_scenario(codes, items=190, start=datetime(2026, 1, 5, tzinfo=TZ), seed=7)
    sends = deliveries(scenario.events, total=1000, seed=8)
    assert len(sends) == 1000
    ids = Counter(e["event_id"] for e in sends)
    assert any(n > 1 for n in ids.values())  # duplicates
    happened = {e["event_id"]: index for index, e in enumerate(scenario.events)}
    positions = [happened[e["event_id"]] for e in sends]
    assert positions != sorted(positions)  # out of order
    assert positions[-1] < max(positions)  # late: held back past later events
    for first in range(0, len(sends), 50):
        post_signed(client, sends[first : first + 50])
    process_all()

    units = {"C-OFF": org.office, "C-DRC": org.bureau, "C-E": org.district, "C-E-T": org.township}
    assert StageEvent.objects.count() == len(scenario.events)
    assert ServiceItem.objects.count() == len(scenario.items)
    stored = {i.external_id: i for i in ServiceItem.objects.all()}
    expected_alerts = set()
    for item in scenario.items:
        want = expected_of(item)
        got = stored[item.item_id]
        assert got.unit_id == units[item.unit_code].pk
        assert got.stage == want["stage"], item.item_id
        for stage, seconds in want["stage_seconds"].items():
            assert getattr(got, f"{stage}_seconds") == seconds, (item.item_id, stage)
        for stage in STAGES:
            assert got.stage_at(stage) == item.times.get(stage), (item.item_id, stage)
        assert got.used_seconds == want["used"], item.item_id
        assert got.due_at == want["due_at"]
        assert got.on_time == want["on_time"]
        assert got.level == (want["levels"][-1] if want["levels"] else "")
        expected_alerts |= {(item.item_id, level) for level in want["levels"]}
    alerts = Alert.objects.select_related("item", "supervised_item")
    assert {(a.item.external_id, a.level) for a in alerts} == expected_alerts
    assert {"notice", "yellow", "red"} <= {level for _, level in expected_alerts}
    # One supervised item per alert, for the item's unit.
    assert SupervisedItem.objects.count() == len(expected_alerts)
    for alert in alerts:
        assert alert.supervised_item is not None
        assert alert.supervised_item.owner_unit_id == alert.item.unit_id
    # Nothing is applied twice: sending everything again changes nothing.
    for first in range(0, len(sends), 100):
        post_signed(client, sends[first : first + 100])
    process_all()
    assert StageEvent.objects.count() == len(scenario.events)
    assert SupervisedItem.objects.count() == len(expected_alerts)
