"""Emergency events: very urgent notifications to the officers on duty, the handling
record with the command system's updates appended once each in sequence order, and
acknowledging it. Docs: docs/integrations.md#emergency."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.integrations.emergency.actions import apply_event
from api.integrations.emergency.events import InvalidEvent, parse_event, source_id_of
from api.integrations.emergency.models import EventUpdate, HandlingRecord, Shift
from api.integrations.emergency.selectors import shift_at
from api.notify.models import Notification
from tests.api.integrations.emergency.helpers import event, put_on_duty_now
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db
HANDLING = "/api/v1/integrations/emergency/handling/"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def duty(org, personas, settings):
    """The office is the duty office; bob is on duty now."""
    settings.GOVDESK_EMERGENCY_DUTY_UNIT = org.office.code
    put_on_duty_now(org.office, personas["bob"], personas["alice"])
    return personas["bob"]


def apply(payload: dict) -> str:
    return apply_event(source_id_of(payload), payload)


@pytest.mark.parametrize(
    ("local", "day", "shift"),
    [
        ("2026-12-07 07:59", "2026-12-06", Shift.NIGHT),
        ("2026-12-07 08:00", "2026-12-07", Shift.DAY),
        ("2026-12-07 17:59", "2026-12-07", Shift.DAY),
        ("2026-12-07 18:00", "2026-12-07", Shift.NIGHT),
        ("2026-12-07 23:30", "2026-12-07", Shift.NIGHT),
    ],
)
def test_shifts_follow_shanghai_wall_clock(local, day, shift):
    moment = datetime.fromisoformat(local).replace(tzinfo=SH)
    assert shift_at(moment) == (datetime.fromisoformat(day).date(), shift)


def test_an_event_reaches_the_officer_on_duty_as_very_urgent(duty, personas):
    assert apply(event("YJ1")) == "created"
    record = HandlingRecord.objects.get(event_id="YJ1")
    note = Notification.objects.get(recipient=duty)
    assert note.urgency == "very_urgent" and note.dedup_key == "emergency:YJ1"
    assert "道路塌陷" in note.title and "较大" in note.title
    assert note.body == "第1报：路面塌陷约 20 平方米。"
    # Very urgent: the SMS rung is due soon and may go out in quiet hours (the ladder).
    from api.notify.ladder import sms_may_go_at_night

    assert note.sms_due_at is not None and sms_may_go_at_night(note)
    # Nobody off duty is told.
    assert not Notification.objects.exclude(recipient=duty).exists()
    assert list(record.recipients.values_list("user_id", "on_duty")) == [(duty.pk, True)]
    # The officer's own notification list shows it.
    listed = client_for(duty).get("/api/v1/notifications/").json()
    assert [n["title"] for n in listed["results"]] == [note.title]


def test_nobody_on_duty_tells_the_duty_units_admins(org, personas, settings):
    settings.GOVDESK_EMERGENCY_DUTY_UNIT = org.office.code
    apply(event("YJ2"))
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"alice"}
    assert HandlingRecord.objects.get().recipients.get().on_duty is False


def test_updates_are_appended_once_each_in_sequence_order(duty):
    assert apply(event("YJ3", 1)) == "created"
    assert apply(event("YJ3", 3, level="II", summary="第3报：扩大到 50 平方米。")) == "appended"
    assert apply(event("YJ3", 2, summary="第2报：已封路。")) == "appended"  # late
    assert apply(event("YJ3", 3, level="II")) == "duplicate"
    assert apply(event("YJ3", 1)) == "duplicate"
    record = HandlingRecord.objects.get(event_id="YJ3")
    assert list(EventUpdate.objects.filter(record=record).values_list("sequence", flat=True)) == [
        1,
        2,
        3,
    ]
    # The facts follow the highest sequence: the late second report did not undo the third.
    assert (record.sequence, record.level, record.summary) == (3, "II", "第3报：扩大到 50 平方米。")
    body = client_for(duty).get(f"{HANDLING}{record.pk}/").json()
    assert [u["sequence"] for u in body["updates"]] == [1, 2, 3]
    assert body["level"] == "II"
    # One notification for the event and one per update, each once.
    keys = sorted(Notification.objects.filter(recipient=duty).values_list("dedup_key", flat=True))
    assert keys == ["emergency:YJ3", "emergency:YJ3#2", "emergency:YJ3#3"]


def test_an_update_arriving_first_opens_the_record(duty):
    assert apply(event("YJ4", 2, summary="第2报")) == "created"
    assert apply(event("YJ4", 1, summary="第1报")) == "appended"
    record = HandlingRecord.objects.get(event_id="YJ4")
    assert (record.sequence, record.summary) == (2, "第2报")
    assert list(record.updates.values_list("sequence", flat=True)) == [1, 2]
    assert Notification.objects.filter(recipient=duty, urgency="very_urgent").count() == 1


@pytest.mark.parametrize(
    "broken",
    [{"sequence": 0}, {"sequence": "1"}, {"level": "V"}, {"occurred_at": "now"}, {"place": ""}],
)
def test_an_event_breaking_the_contract_is_refused(broken):
    with pytest.raises(InvalidEvent):
        parse_event(event("YJ5", **broken))


def test_acknowledge_by_the_officer_once(duty, personas, org):
    from api.audit.models import AuditEvent

    apply(event("YJ6"))
    record = HandlingRecord.objects.get()
    url = f"{HANDLING}{record.pk}/acknowledge/"
    # Leo leads the office: he sees it, but signing for it is the officer's.
    leo = client_for(personas["leo"])
    assert leo.get(f"{HANDLING}{record.pk}/").status_code == 200
    assert leo.post(url).status_code == 403
    assert client_for(personas["charlie"]).post(url).status_code == 404
    assert client_for(personas["charlie"]).get(f"{HANDLING}{record.pk}/").status_code == 404
    first = client_for(duty).post(url)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"]["id"] == duty.pk
    again = client_for(duty).post(url).json()
    assert again["acknowledged_at"] == body["acknowledged_at"]
    assert AuditEvent.objects.filter(action="emergency.acknowledged").count() == 1
    assert AuditEvent.objects.filter(action="emergency.acknowledge", result="denied").count() == 2
    assert AuditEvent.objects.filter(action="emergency.event_received").count() == 1


def test_handling_list_scope_and_query_budget(duty, personas, org, django_assert_max_num_queries):
    apply(event("YJ7"))
    officer = client_for(duty)
    assert [r["event_id"] for r in officer.get(HANDLING).json()["results"]] == ["YJ7"]
    assert client_for(personas["charlie"]).get(HANDLING).json()["results"] == []
    assert len(client_for(personas["sam"]).get(HANDLING).json()["results"]) == 1
    with django_assert_max_num_queries(12) as few:
        officer.get(HANDLING)
    other = make_user("other_officer", org.office)
    put_on_duty_now(org.office, other, personas["alice"])
    for i in range(8):
        apply(event(f"YJ8{i}"))
        apply(event(f"YJ8{i}", 2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(officer.get(HANDLING).json()["results"]) == 9
