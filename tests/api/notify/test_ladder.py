"""The reminder ladder on a controllable clock, and quiet hours.

Docs: docs/notifications.md#the-ladder and #quiet-hours. ``ladder.run(now)`` is what
beat calls every 30 s; the tests pass their own ``now``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from api.env import parse_minutes_by_urgency, parse_quiet_hours
from api.notify import delivery, ladder
from api.notify.actions import mark_read, notify, update_preferences
from api.notify.models import Channel, Delivery, Notification, NotificationPreference
from api.workflow import actions as workflow
from tests.api.notify.conftest import local, sms_sent

pytestmark = pytest.mark.django_db

MORNING = local(2026, 11, 24, 10, 0)  # a Tuesday, 10:00 in Shanghai


@pytest.fixture
def leader(demo):
    user = demo.user("leader1")
    user.mobile = "13800138001"
    user.save(update_fields=["mobile"])
    return user


def _note(user, at, urgency="normal", key="n:1") -> Notification:
    n = notify(
        recipient=user, kind="system", title="请审批", urgency=urgency, dedup_key=key, now=at
    )
    assert n is not None
    return n


def _sms_rows() -> list[Delivery]:
    return list(Delivery.objects.filter(channel=Channel.SMS).order_by("id"))


def test_unread_escalates_to_sms_after_the_configured_minutes(leader, sms):
    n = _note(leader, MORNING)  # normal: 60 minutes by default
    assert n.sms_due_at == MORNING + timedelta(minutes=60)
    assert ladder.run(MORNING + timedelta(minutes=59))["sms"]["queued"] == 0
    assert _sms_rows() == []
    assert ladder.run(MORNING + timedelta(minutes=60))["sms"]["queued"] == 1
    [row] = _sms_rows()
    assert row.address == "13800138001" and row.notification_id == n.pk
    assert delivery.deliver(None, MORNING + timedelta(minutes=60)) == {"ok": 1}
    assert [s["recipient"] for s in sms_sent(sms)] == ["13800138001"]
    # The rung fires once: later runs do nothing.
    assert ladder.run(MORNING + timedelta(minutes=90))["sms"]["queued"] == 0
    assert len(_sms_rows()) == 1


def test_minutes_are_per_urgency_and_zero_means_never(leader, settings):
    settings.GOVDESK_NOTIFY_SMS_AFTER_MINUTES = {
        "very_urgent": 5,
        "high": 15,
        "normal": 60,
        "low": 0,
    }
    very = _note(leader, MORNING, "very_urgent", "a")
    high = _note(leader, MORNING, "high", "b")
    low = _note(leader, MORNING, "low", "c")
    assert very.sms_due_at == MORNING + timedelta(minutes=5)
    assert high.sms_due_at == MORNING + timedelta(minutes=15)
    assert low.sms_due_at is None
    ladder.run(MORNING + timedelta(minutes=5))
    assert [r.notification_id for r in _sms_rows()] == [very.pk]
    ladder.run(MORNING + timedelta(days=3))
    assert {r.notification_id for r in _sms_rows()} == {very.pk, high.pk}


def test_reading_stops_the_ladder(leader):
    n = _note(leader, MORNING)
    mark_read(n, MORNING + timedelta(minutes=30))
    ladder.run(MORNING + timedelta(hours=2))
    assert _sms_rows() == []


def test_acting_on_the_task_stops_the_ladder(outgoing, demo, settings):
    # The notification is made now (by the flow), so its SMS falls due at a wall-clock
    # time: without quiet hours the rung is decided at once, whatever the hour of the run
    # (quiet hours have their own test below).
    settings.GOVDESK_NOTIFY_QUIET_HOURS = None
    director = demo.user("director")
    director.mobile = "13800138002"
    director.save(update_fields=["mobile"])
    document, _ = outgoing()
    n = Notification.objects.get(recipient=director)
    workflow.approve(demo.open_task("director", document).pk, director)
    counts = ladder.run(n.sms_due_at)
    assert counts["sms"]["stopped"] >= 1
    n.refresh_from_db()
    assert n.sms_done_at is not None and n.ladder_note == "task_no_longer_open"
    assert not Delivery.objects.filter(notification=n, channel=Channel.SMS).exists()


def test_sms_switched_off_or_no_usable_number_stops_the_rung(leader, demo):
    update_preferences(leader, {"sms_enabled": False})
    a = _note(leader, MORNING, key="a")
    nobody = demo.user("leader2")  # no mobile number
    b = _note(nobody, MORNING, key="b")
    ladder.run(MORNING + timedelta(hours=1))
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.ladder_note, b.ladder_note) == ("sms_off_by_user", "no_mobile_number")
    update_preferences(leader, {"sms_enabled": True})
    NotificationPreference.objects.filter(user=leader).update(bad_mobile=leader.mobile)
    c = _note(leader, MORNING, key="c")
    ladder.run(MORNING + timedelta(hours=1))
    c.refresh_from_db()
    assert c.ladder_note == "mobile_number_invalid"
    assert _sms_rows() == []


def test_quiet_hours_hold_sms_until_morning(leader, sms):
    evening = local(2026, 11, 24, 21, 30)
    n = _note(leader, evening)  # due 22:30, inside 22:00-07:00
    for at in (local(2026, 11, 24, 22, 30), local(2026, 11, 25, 3, 0), local(2026, 11, 25, 6, 59)):
        assert ladder.run(at)["sms"] == {"queued": 0, "held": 1, "stopped": 0}
    n.refresh_from_db()
    assert n.sms_held_at == local(2026, 11, 24, 22, 30) and n.sms_done_at is None
    assert ladder.run(local(2026, 11, 25, 7, 0))["sms"]["queued"] == 1
    assert delivery.deliver(None, local(2026, 11, 25, 7, 0)) == {"ok": 1}
    assert len(sms_sent(sms)) == 1


def test_very_urgent_sms_go_out_at_night_unless_the_user_refuses(leader, demo):
    night = local(2026, 11, 24, 23, 0)
    n = _note(leader, night, "very_urgent")
    assert ladder.run(night + timedelta(minutes=5))["sms"]["queued"] == 1
    other = demo.user("leader2")
    other.mobile = "13800138003"
    other.save(update_fields=["mobile"])
    update_preferences(other, {"sms_very_urgent_at_night": False})
    m = _note(other, night, "very_urgent", key="m")
    assert ladder.run(night + timedelta(minutes=5))["sms"]["held"] == 1
    assert [r.notification_id for r in _sms_rows()] == [n.pk]
    ladder.run(local(2026, 11, 25, 7, 0))
    assert [r.notification_id for r in _sms_rows()] == [n.pk, m.pk]


def test_a_nights_backlog_does_not_crowd_out_a_very_urgent_sms(leader, monkeypatch):
    monkeypatch.setattr(ladder, "BATCH", 2)
    evening = local(2026, 11, 24, 21, 0)
    for i in range(3):
        _note(leader, evening, key=f"normal:{i}")
    urgent = _note(leader, local(2026, 11, 24, 23, 0), "very_urgent", key="urgent")
    counts = ladder.run(local(2026, 11, 24, 23, 5))["sms"]
    assert counts == {"queued": 1, "held": 3, "stopped": 0}
    assert [r.notification_id for r in _sms_rows()] == [urgent.pk]


def test_quiet_hours_can_be_changed_or_switched_off(leader, settings):
    settings.GOVDESK_NOTIFY_QUIET_HOURS = None
    _note(leader, local(2026, 11, 24, 23, 0))
    assert ladder.run(local(2026, 11, 25, 0, 0))["sms"]["queued"] == 1


def test_in_quiet_hours_window_edges(settings):
    assert ladder.in_quiet_hours(local(2026, 11, 24, 22, 0))
    assert ladder.in_quiet_hours(local(2026, 11, 25, 6, 59))
    assert not ladder.in_quiet_hours(local(2026, 11, 25, 7, 0))
    assert not ladder.in_quiet_hours(local(2026, 11, 24, 21, 59))
    settings.GOVDESK_NOTIFY_QUIET_HOURS = parse_quiet_hours("X", "12:00-13:30")
    assert ladder.in_quiet_hours(local(2026, 11, 24, 12, 0))
    assert not ladder.in_quiet_hours(local(2026, 11, 24, 13, 30))


def test_setting_parsers_refuse_bad_values():
    assert parse_minutes_by_urgency("X", "low=0, normal=60,high=15,very_urgent=5") == {
        "low": 0,
        "normal": 60,
        "high": 15,
        "very_urgent": 5,
    }
    for bad in (
        "normal=60",
        "low=0,normal=x,high=1,very_urgent=1",
        "low=-1,normal=1,high=1,very_urgent=1",
        "low=0,normal=1,high=1,very_urgent=1,urgent=2",
        "low=0,low=1,normal=1,high=1,very_urgent=1",
    ):
        with pytest.raises(ImproperlyConfigured):
            parse_minutes_by_urgency("X", bad)
    assert parse_quiet_hours("X", "off") is None
    for bad in ("22-7", "22:00", "07:00-07:00", "25:00-07:00"):
        with pytest.raises(ImproperlyConfigured):
            parse_quiet_hours("X", bad)


def test_an_untouched_task_near_its_deadline_tells_the_clerk_and_the_backup(outgoing, demo):
    document, _ = outgoing()
    task = demo.open_task("director", document)
    n = Notification.objects.get(recipient=demo.user("director"), kind="task_opened")
    assert task.due_at is not None and n.escalate_due_at is not None
    assert n.escalate_due_at == max(task.due_at - timedelta(minutes=120), n.sms_due_at)
    before = ladder.run(n.escalate_due_at - timedelta(seconds=1))
    assert before["escalation"]["escalated"] == 0
    counts = ladder.run(n.escalate_due_at)["escalation"]
    assert counts == {"escalated": 1, "told": 2, "stopped": 0}
    told = Notification.objects.filter(kind="escalation")
    # 周敏 the office clerk, and office_admin, the backup of the director's post (AB岗)
    assert set(told.values_list("recipient__username", flat=True)) == {"clerk", "office_admin"}
    assert all(t.task_id == task.pk and "王建国" in t.title for t in told)
    assert ladder.run(n.escalate_due_at + timedelta(hours=1))["escalation"]["escalated"] == 0
    assert told.count() == 2


def test_a_read_or_acted_task_is_not_escalated(outgoing, demo):
    document, _ = outgoing()
    n = Notification.objects.get(recipient=demo.user("director"))
    mark_read(n)
    assert ladder.run(n.escalate_due_at)["escalation"]["escalated"] == 0
    Notification.objects.filter(pk=n.pk).update(read_at=None)
    workflow.approve(demo.open_task("director", document).pk, demo.user("director"))
    assert ladder.run(n.escalate_due_at)["escalation"] == {
        "escalated": 0,
        "told": 0,
        "stopped": 1,
    }
    assert not Notification.objects.filter(kind="escalation").exists()


def test_escalation_posts_once_to_the_office_im_robot_when_configured(outgoing, demo, settings):
    settings.GOVDESK_NOTIFY_IM_WEBHOOK_URL = "https://oapi.dingtalk.com/robot/send?access_token=x"
    outgoing()
    n = Notification.objects.get(recipient=demo.user("director"))
    ladder.run(n.escalate_due_at)
    assert Delivery.objects.filter(channel=Channel.IM).count() == 1
