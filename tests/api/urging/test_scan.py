"""The automatic scan (docs/urging.md#automatic-urges): caps, working hours, the
same transaction as the notification, and a query count that does not grow with
the number of open tasks.

The main example: received Fri 20 Nov 2026 10:00 with 1 working day → due Mon
23 Nov 10:00 (14 h Friday + 10 h Monday). 75 % = 18 h → yellow from Mon 04:00,
which is at night, so the yellow urge waits for Mon 09:00.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from api.audit.models import AuditEvent
from api.notify.models import Notification
from api.notify.signals import notification_created
from api.urging import actions
from api.urging.models import UrgeRecord
from api.urging.tasks import scan_deadlines
from api.workdays import add_working_days
from api.workdays.models import CalendarOverride
from tests.api.urging.conftest import at

pytestmark = pytest.mark.django_db

RECEIVED = at("2026-11-20 10:00")
DUE = at("2026-11-23 10:00")


@pytest.fixture
def overdue_task(make_task):
    assert add_working_days(RECEIVED, 1) == DUE
    return make_task(received=RECEIVED, due=DUE)


def kinds(task) -> list[tuple[str, str | None]]:
    return [
        (u.kind, u.work_day.isoformat() if u.work_day else None)
        for u in UrgeRecord.objects.filter(task=task).order_by("id")
    ]


def test_yellow_at_night_waits_for_the_working_morning(overdue_task):
    assert actions.scan_deadlines(at("2026-11-23 04:30")).outside_hours
    assert actions.scan_deadlines(at("2026-11-23 08:59")).outside_hours
    assert kinds(overdue_task) == []
    result = actions.scan_deadlines(at("2026-11-23 09:00"))
    assert (result.yellow, result.red) == (1, 0)
    assert kinds(overdue_task) == [("auto_yellow", "2026-11-23")]
    urge = UrgeRecord.objects.get(task=overdue_task)
    assert urge.urged == overdue_task.assignee and urge.by is None
    assert urge.unit_id == overdue_task.assignee.unit_id
    assert urge.elapsed_fraction == pytest.approx(23 / 24, abs=1e-4)  # 14 h + 9 h of 24
    notification = Notification.objects.get(pk=urge.notification_id)
    assert (notification.recipient_id, notification.kind, notification.task_id) == (
        overdue_task.assignee_id,
        "urge",
        overdue_task.pk,
    )
    assert notification.urgency == "normal"
    assert notification.dedup_key == f"urge_yellow:{overdue_task.pk}"


def test_scanning_twice_urges_once(overdue_task):
    first = actions.scan_deadlines(at("2026-11-23 09:00"))
    second = actions.scan_deadlines(at("2026-11-23 09:05"))
    assert (first.yellow, second.yellow, second.red) == (1, 0, 0)
    assert UrgeRecord.objects.count() == 1
    assert Notification.objects.filter(kind="urge").count() == 1


def test_red_once_per_working_day_and_at_most_n_in_total(overdue_task):
    actions.scan_deadlines(at("2026-11-23 09:00"))  # yellow
    assert actions.scan_deadlines(at("2026-11-23 10:00")).red == 0  # due, not yet past
    assert actions.scan_deadlines(at("2026-11-23 10:05")).red == 1
    assert actions.scan_deadlines(at("2026-11-23 17:55")).red == 0  # same day
    assert actions.scan_deadlines(at("2026-11-24 03:00")).outside_hours  # night
    assert actions.scan_deadlines(at("2026-11-24 09:00")).red == 1  # next working day
    assert actions.scan_deadlines(at("2026-11-24 09:05")).red == 0
    assert actions.scan_deadlines(at("2026-11-25 09:00")).red == 1  # third: the cap (3)
    assert actions.scan_deadlines(at("2026-11-26 09:00")).red == 0
    assert kinds(overdue_task) == [
        ("auto_yellow", "2026-11-23"),
        ("auto_red", "2026-11-23"),
        ("auto_red", "2026-11-24"),
        ("auto_red", "2026-11-25"),
    ]
    reds = Notification.objects.filter(dedup_key__startswith="urge_red:")
    assert reds.count() == 3 and {n.urgency for n in reds} == {"high"}


@override_settings(GOVDESK_URGE_RED_MAX=1)
def test_the_total_cap_is_configurable(overdue_task):
    assert actions.scan_deadlines(at("2026-11-23 11:00")).red == 1
    assert actions.scan_deadlines(at("2026-11-24 11:00")).red == 0


def test_no_urges_on_weekends_and_holidays_then_the_next_working_morning(make_task):
    # Due Fri 27 Nov 10:00; Mon 30 Nov made a holiday by the city's override table.
    task = make_task(received=at("2026-11-26 10:00"), due=at("2026-11-27 10:00"))
    CalendarOverride.objects.create(date=at("2026-11-30 00:00").date(), kind="holiday", name="测试")
    assert actions.scan_deadlines(at("2026-11-27 11:00")).red == 1
    assert actions.scan_deadlines(at("2026-11-28 11:00")).outside_hours  # Saturday
    assert actions.scan_deadlines(at("2026-11-30 11:00")).outside_hours  # the holiday
    assert actions.scan_deadlines(at("2026-12-01 09:00")).red == 1
    assert [d for _, d in kinds(task)] == ["2026-11-27", "2026-12-01"]


def test_a_task_that_is_already_overdue_gets_only_the_red_urge(overdue_task):
    result = actions.scan_deadlines(at("2026-11-23 11:00"))
    assert (result.yellow, result.red) == (0, 1)
    assert kinds(overdue_task) == [("auto_red", "2026-11-23")]


@pytest.mark.parametrize("state", ["done", "waiting", "returned", "cancelled"])
def test_closed_tasks_are_not_urged(make_task, state):
    make_task(received=RECEIVED, due=DUE, state=state)
    assert actions.scan_deadlines(at("2026-11-23 11:00")).examined == 0
    assert UrgeRecord.objects.count() == 0


def test_green_tasks_are_not_urged(make_task):
    make_task(received=at("2026-11-23 09:00"), due=at("2026-11-24 09:00"))
    result = actions.scan_deadlines(at("2026-11-23 10:00"))
    assert (result.examined, result.yellow, result.red) == (1, 0, 0)


def test_a_rolled_back_urge_sends_nothing(overdue_task):
    sent = []

    def receiver(**kwargs):
        sent.append(kwargs)

    notification_created.connect(receiver)
    try:
        with mock.patch("api.urging.actions.record", side_effect=RuntimeError("audit down")):
            result = actions.scan_deadlines(at("2026-11-23 11:00"))
    finally:
        notification_created.disconnect(receiver)
    assert (result.red, result.failed) == (0, 1)
    assert UrgeRecord.objects.count() == 0
    assert Notification.objects.count() == 0
    assert sent == []
    # The next scan (audit working again) sends it.
    assert actions.scan_deadlines(at("2026-11-23 11:05")).red == 1


def test_every_automatic_urge_is_audited(overdue_task):
    actions.scan_deadlines(at("2026-11-23 11:00"))
    event = AuditEvent.objects.get(action="task.urged")
    urge = UrgeRecord.objects.get()
    assert event.detail == {"task_id": overdue_task.pk, "urge_id": urge.pk, "kind": "auto_red"}
    assert event.actor_id is None


def test_a_deduplicated_notification_leaves_the_record_without_id(overdue_task):
    from api.notify.actions import notify

    notify(
        recipient=overdue_task.assignee,
        kind="urge",
        title="x",
        dedup_key=f"urge_red:{overdue_task.pk}:2026-11-23",
    )
    actions.scan_deadlines(at("2026-11-23 11:00"))
    assert UrgeRecord.objects.get().notification_id is None


def test_the_celery_task_takes_an_iso_moment(overdue_task):
    assert scan_deadlines("2026-11-23T11:00:00+08:00") == {
        "yellow": 0,
        "red": 1,
        "examined": 1,
        "failed": 0,
        "outside_hours": False,
    }


def test_the_beat_schedule_runs_the_scan():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["scan-deadlines"]
    assert entry == {
        "task": "api.urging.tasks.scan_deadlines",
        "schedule": float(settings.GOVDESK_URGE_SCAN_SECONDS),
    }
    assert settings.GOVDESK_URGE_SCAN_SECONDS == 300  # the default


def _scan_queries(moment) -> tuple[int, actions.ScanResult]:
    with CaptureQueriesContext(connection) as ctx:
        result = actions.scan_deadlines(moment)
    return len(ctx.captured_queries), result


# The calendar re-checks its shared generation stamp every few seconds (a cache
# read, a query with the database cache): not in the middle of a count.
@override_settings(GOVDESK_CALENDAR_RECHECK_SECONDS=3600)
def test_the_scan_query_count_does_not_grow_with_open_tasks(make_task, personas):
    def green(n):
        for _ in range(n):
            make_task(received=at("2026-11-23 09:00"), due=at("2026-12-31 09:00"))

    green(5)
    actions.scan_deadlines(at("2026-11-23 10:00"))  # warm the calendar tables
    few, result = _scan_queries(at("2026-11-23 10:00"))
    assert result.examined == 5
    green(60)
    many, result = _scan_queries(at("2026-11-23 10:00"))
    assert result.examined == 65 and result.yellow == result.red == 0
    assert many == few <= 2
    # A task whose urges are all sent (yellow is past, red cap reached) is not even read.
    make_task(received=RECEIVED, due=DUE)
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        actions.scan_deadlines(at(f"{day} 11:00"))
    after, result = _scan_queries(at("2026-11-26 11:00"))
    assert (result.examined, result.red) == (65, 0) and after == few


# The calendar re-checks its shared generation stamp every few seconds (a cache
# read, a query with the database cache): not in the middle of a count.
@override_settings(GOVDESK_CALENDAR_RECHECK_SECONDS=3600)
def test_each_urge_costs_a_fixed_number_of_queries(make_task):
    make_task(received=RECEIVED, due=DUE)
    actions.scan_deadlines(at("2026-11-23 11:00"))  # warm: calendar, audit chain head
    one, result = _scan_queries(at("2026-11-24 11:00"))
    assert result.red == 1
    for _ in range(5):
        make_task(received=RECEIVED, due=DUE)
    six, result = _scan_queries(at("2026-11-25 11:00"))
    assert result.red == 6
    per_urge = (six - one) // 5
    assert six == one + 5 * per_urge
    # Measured 21 on SQLite (savepoints included): lock, caps, record, notification
    # and its outbox, audit event.
    assert per_urge <= 21


def test_one_failing_task_does_not_hold_up_the_others(make_task):
    first = make_task(received=RECEIVED, due=DUE)
    second = make_task(received=RECEIVED, due=DUE)
    real_notify = actions._notify

    def notify_but_not_first(task, urge, now, **kwargs):
        if task.pk == first.pk:
            raise RuntimeError("broken row")
        real_notify(task, urge, now, **kwargs)

    with mock.patch("api.urging.actions._notify", side_effect=notify_but_not_first):
        result = actions.scan_deadlines(at("2026-11-23 11:00"))
    assert (result.red, result.failed) == (1, 1)
    assert list(UrgeRecord.objects.values_list("task_id", flat=True)) == [second.pk]
    assert actions.scan_deadlines(at("2026-11-23 11:05")).red == 1  # retried, sent
