"""Applying stage events: stage times, late and out-of-order events, duplicates, alerts
into supervision and the beat check (docs/integrations.md#e-supervision)."""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from api.integrations.esupervision.actions import EventRejected, check_open_items, handle
from api.integrations.esupervision.models import Alert, ServiceItem, StageEvent, UnitCode
from api.supervision.models import SupervisedItem
from tests.api.integrations.esupervision.conftest import event, march

DAY = 86_400
H = 3600

# Accepted Monday 2 March 10:00 with 5 working days: due Monday 9 March 10:00; one
# working day per stage, completed Friday 6 March 10:00 = 4 days used (80 %: 预警).
IN_ORDER = [
    event("E1", "accept", march(2, 10)),
    event("E2", "handle", march(3, 10)),
    event("E3", "review", march(4, 10)),
    event("E4", "approve", march(5, 10)),
    event("E5", "complete", march(6, 10)),
]


def item() -> ServiceItem:
    return ServiceItem.objects.get(external_id="SP-1")


def test_in_order_events_give_stage_times(org, personas, send):
    send(*IN_ORDER)
    found = item()
    assert found.unit == org.office
    assert found.stage == "complete"
    assert (found.accept_seconds, found.handle_seconds) == (DAY, DAY)
    assert (found.review_seconds, found.approve_seconds) == (DAY, DAY)
    assert found.due_at == march(9, 10)
    assert found.used_seconds == 4 * DAY
    assert found.on_time is True
    assert found.level == "notice"
    assert list(Alert.objects.values_list("level", flat=True)) == ["notice"]


def test_weekend_does_not_count(org, personas, send):
    # Friday 6 March 10:00 to Monday 9 March 10:00: one working day.
    send(
        event("E1", "accept", march(6, 10), limit=10),
        event("E2", "handle", march(9, 10), limit=10),
    )
    assert item().accept_seconds == DAY
    assert item().used_seconds == DAY


def test_the_clock_starts_at_nine(org, personas, send):
    send(event("E1", "accept", march(2, 7)), event("E2", "complete", march(2, 12)))
    assert item().used_seconds == 3 * H  # from 09:00, not 07:00
    assert item().accept_seconds is None  # handle never arrived


def test_out_of_order_events_end_the_same(org, personas, send):
    send(*reversed(IN_ORDER))
    found = item()
    assert found.stage == "complete"
    assert [found.accept_seconds, found.handle_seconds, found.review_seconds] == [DAY] * 3
    assert found.used_seconds == 4 * DAY
    assert list(Alert.objects.values_list("level", flat=True)) == ["notice"]


def test_an_earlier_stage_never_moves_the_item_back(org, personas, send):
    send(IN_ORDER[0], IN_ORDER[3])
    assert item().stage == "approve"
    send(IN_ORDER[1])  # late 承办
    assert item().stage == "approve"
    assert item().accept_seconds == DAY
    assert item().handle_seconds is None  # review still missing


def test_a_late_event_fills_in_missing_stage_times(org, personas, send):
    send(IN_ORDER[0], IN_ORDER[2], IN_ORDER[4])
    assert item().accept_seconds is None
    send(IN_ORDER[1])
    found = item()
    assert (found.accept_seconds, found.handle_seconds) == (DAY, DAY)
    assert found.review_seconds is None  # approve still missing
    assert found.stage == "complete"


def test_duplicates_count_once(org, personas, send):
    send(*IN_ORDER, *IN_ORDER)
    assert StageEvent.objects.count() == 5
    assert Alert.objects.count() == 1
    assert SupervisedItem.objects.count() == 1


def test_a_second_event_for_a_timed_stage_is_kept_not_applied(org, personas, send):
    send(IN_ORDER[0], event("E1b", "accept", march(3, 10)))
    assert item().accept_at == march(2, 10)  # the first time stands
    assert list(StageEvent.objects.order_by("event_id").values_list("applied", flat=True)) == [
        True,
        False,
    ]


def test_completed_over_the_limit_is_red_with_every_level(org, personas, send):
    send(event("E1", "accept", march(2, 10)), event("E2", "complete", march(9, 11)))
    found = item()
    assert found.on_time is False
    assert found.level == "red"
    alerts = Alert.objects.order_by("id")
    assert [a.level for a in alerts] == ["notice", "yellow", "red"]
    # One supervised item per level, for the item's unit, opened by its supervisor.
    supervised = SupervisedItem.objects.filter(pk__in=[a.supervised_item_id for a in alerts])
    assert supervised.count() == 3
    assert {s.owner_unit_id for s in supervised} == {org.office.pk}
    assert {s.created_by_id for s in supervised} == {personas["sam"].pk}
    assert "红牌" in supervised.order_by("-id").first().title
    assert AuditEvent.objects.filter(action="esupervision.alert_raised").count() == 3


def test_the_integrators_mapping_wins(org, personas, send):
    UnitCode.objects.create(code="SPJ-007", unit=org.bureau)
    send(event("E1", "accept", march(2, 10), unit_code="SPJ-007"))
    assert item().unit == org.bureau


@pytest.mark.parametrize(
    "change",
    [
        {"unit_code": "NOPE"},
        {"stage": "archive"},
        {"occurred_at": "2026-03-02T10:00:00"},  # no offset
        {"limit_days": 0},
        {"limit_days": "5"},
        {"item_id": ""},
    ],
)
def test_a_bad_event_is_rejected(org, personas, change):
    payload = {**IN_ORDER[0], **change}
    with pytest.raises(EventRejected):
        handle("E1", payload)
    assert not ServiceItem.objects.exists()


def test_without_a_supervisor_the_alert_waits_for_the_beat(org, send):
    from tests.personas import Role, make_user

    send(event("E1", "accept", march(2, 10)), event("E2", "complete", march(6, 12)))
    alert = Alert.objects.get()
    assert alert.level == "notice"
    assert alert.supervised_item is None
    assert AuditEvent.objects.filter(action="esupervision.alert_unassigned").exists()
    make_user("zoe", org.city, Role.SUPERVISOR)
    check_open_items()
    alert.refresh_from_db()
    assert alert.supervised_item is not None
    check_open_items()
    assert SupervisedItem.objects.count() == 1


def test_beat_raises_alerts_for_open_items_without_new_events(org, personas, send):
    send(IN_ORDER[0], IN_ORDER[1])
    assert not Alert.objects.exists()
    check_open_items(now=march(9, 11))  # 5 days + 1 hour used
    assert sorted(Alert.objects.values_list("level", flat=True)) == ["notice", "yellow"]
    check_open_items(now=march(9, 12))  # safe to run twice
    assert Alert.objects.count() == 2
    check_open_items(now=march(12, 11))  # 8 days + 1 hour: over by more than 3
    assert item().level == "red"
    assert Alert.objects.count() == 3
    assert SupervisedItem.objects.count() == 3
    # A later event evaluates at its own time, yet the level never drops.
    send(IN_ORDER[2])
    assert item().level == "red"
