"""absence_changed: sent after commit, exactly once per transition; the sweep is safe
to run twice (docs/delegation.md#signal)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from api.accounts.actions import absence as actions
from api.accounts.models import Absence
from api.accounts.signals import absence_changed
from api.accounts.tasks import sweep_absences
from api.audit.models import AuditEvent
from tests.api.accounts.absence.conftest import make_absence
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def declare(user, start_in, length):
    now = timezone.now()
    return actions.declare_absence(
        user, user, starts_at=now + start_in, ends_at=now + start_in + length, reason="出差"
    )


def test_declared_in_effect_sends_started_once_after_commit(
    personas, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        absence = declare(personas["leo"], -HOUR, DAY)
    assert signals == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert signals == [(absence.pk, "started")]
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep() == {"started": 0, "ended": 0}
    assert signals == [(absence.pk, "started")]


def test_future_absence_starts_with_the_sweep_once(
    personas, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        absence = declare(personas["leo"], HOUR, DAY)
        assert actions.sweep() == {"started": 0, "ended": 0}
    assert signals == []
    later = timezone.now() + 2 * HOUR
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep(later) == {"started": 1, "ended": 0}
        assert actions.sweep(later) == {"started": 0, "ended": 0}
    assert signals == [(absence.pk, "started")]
    assert AuditEvent.objects.filter(action="absence.started", actor_id=None).count() == 1
    after_end = absence.ends_at + HOUR
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep(after_end) == {"started": 0, "ended": 1}
        assert actions.sweep(after_end) == {"started": 0, "ended": 0}
    assert signals == [(absence.pk, "started"), (absence.pk, "ended")]
    ended = AuditEvent.objects.get(action="absence.ended")
    assert ended.detail["by"] == "schedule"


def test_ending_early_sends_ended_once(personas, signals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        absence = declare(personas["leo"], -HOUR, DAY)
        actions.end_absence(personas["leo"], absence)
        assert actions.sweep(timezone.now() + 2 * DAY) == {"started": 0, "ended": 0}
    assert signals == [(absence.pk, "started"), (absence.pk, "ended")]
    absence.refresh_from_db()
    assert absence.ended_early_at is not None and absence.ends_at <= timezone.now()


def test_ending_before_the_sweep_noticed_the_start_sends_both_in_order(
    personas, signals, django_capture_on_commit_callbacks
):
    absence = make_absence(personas["leo"], start_in=-HOUR, length=DAY)  # sweep not run yet
    with django_capture_on_commit_callbacks(execute=True):
        actions.end_absence(personas["leo"], absence)
    assert signals == [(absence.pk, "started"), (absence.pk, "ended")]


def test_cancelling_sends_cancelled_only(personas, signals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        absence = declare(personas["leo"], HOUR, DAY)
        actions.cancel_absence(personas["leo"], absence)
        assert actions.sweep(timezone.now() + 3 * DAY) == {"started": 0, "ended": 0}
    assert signals == [(absence.pk, "cancelled")]


def test_a_short_absence_missed_by_the_sweep_still_starts_before_it_ends(
    personas, signals, django_capture_on_commit_callbacks
):
    absence = make_absence(personas["leo"], start_in=-3 * HOUR, length=HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep() == {"started": 1, "ended": 1}
    assert signals == [(absence.pk, "started"), (absence.pk, "ended")]


def test_the_beat_task_runs_the_sweep(personas, signals, django_capture_on_commit_callbacks):
    absence = make_absence(personas["leo"], start_in=-HOUR, length=DAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_absences.run() == {"started": 1, "ended": 0}
        assert sweep_absences.run() == {"started": 0, "ended": 0}
    assert signals == [(absence.pk, "started")]


def test_a_failing_receiver_is_logged_and_others_still_run(
    personas, signals, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, **kwargs):
        raise RuntimeError("receiver bug")

    absence_changed.connect(broken, dispatch_uid="test-broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            absence = declare(personas["leo"], -HOUR, DAY)
    finally:
        absence_changed.disconnect(dispatch_uid="test-broken")
    assert (absence.pk, "started") in signals
    assert "receiver" in caplog.text and "failed" in caplog.text


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_transition_once(personas, signals):
    absences = [
        make_absence(personas["leo"], start_in=-HOUR * (i + 2), length=HOUR) for i in range(3)
    ]
    barrier = threading.Barrier(4)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(actions.sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["started"] for r in results) == 3
    assert sum(r["ended"] for r in results) == 3
    assert sorted(signals) == sorted(
        [(a.pk, "started") for a in absences] + [(a.pk, "ended") for a in absences]
    )
    assert Absence.objects.filter(started_signalled=True, ended_signalled=True).count() == 3


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_declarations_one_wins(personas):
    """Two devices declare overlapping absences for the same person at once: the lock on
    the person's row lets exactly one through; the other gets absence_overlaps."""
    from api.common.errors import ApiError

    leo = personas["leo"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(offset_hours: int):
        try:
            barrier.wait()
            now = timezone.now()
            actions.declare_absence(
                leo,
                leo,
                starts_at=now + timedelta(hours=offset_hours),
                ends_at=now + timedelta(hours=offset_hours) + DAY,
            )
            outcomes.append("ok")
        except ApiError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(h,)) for h in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["absence_overlaps", "ok"]
    assert Absence.objects.filter(user=leo).count() == 1
