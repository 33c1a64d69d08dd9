"""Two scans at the same moment (two beats, a retried task) urge once, on PostgreSQL
with real row locks (docs/urging.md#automatic-urges)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from api.notify.models import Notification
from api.urging import actions
from api.urging.models import UrgeRecord
from tests.api.urging.conftest import at
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_scans_urge_each_task_once(make_task):
    tasks = [
        make_task(received=at("2026-11-20 10:00"), due=at("2026-11-23 10:00")) for _ in range(8)
    ]
    barrier = threading.Barrier(4)
    results, failures = [], []

    def scan():
        try:
            barrier.wait()
            results.append(actions.scan_deadlines(at("2026-11-23 11:00")).red)
        except Exception as exc:  # reported below; a thread must not die silently
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(results) == len(tasks)
    assert UrgeRecord.objects.filter(kind="auto_red").count() == len(tasks)
    assert Notification.objects.filter(kind="urge").count() == len(tasks)


def test_ten_concurrent_urgers_hit_the_cap_per_person_and_item_once(make_task, org, personas):
    """The (person, item) row lock: ten people urging one leader at the same moment
    get exactly GOVDESK_URGE_CAP_PER_WINDOW urges through and one SMS-able one
    (docs/urging.md#the-cap-per-person-and-item)."""
    from django.utils import timezone

    from api.accounts.models import Role, RoleAssignment
    from api.audit.models import AuditEvent
    from api.common.errors import ApiError
    from tests.personas import make_user

    now = timezone.now()
    task = make_task(received=now, due=now + timedelta(days=3))
    people = [make_user(f"inspector{i}", org.bureau, Role.STAFF) for i in range(10)]
    for person in people:
        RoleAssignment.objects.create(user=person, role=Role.SUPERVISOR, unit=org.city)
    barrier = threading.Barrier(len(people))
    codes, failures = [], []

    def urge(person):
        try:
            barrier.wait()
            actions.urge(task.pk, person, "请尽快办理。")
            codes.append("ok")
        except ApiError as error:
            codes.append(error.code)
        except Exception as exc:  # reported below; a thread must not die silently
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=urge, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(codes) == ["ok"] * 3 + ["urge_capped"] * 7
    assert UrgeRecord.objects.filter(kind="manual").count() == 3
    notes = Notification.objects.filter(kind="urge", recipient=task.assignee)
    assert notes.count() == 3
    assert notes.exclude(sms_due_at=None).count() == 1
    denied = AuditEvent.objects.filter(action="task.urge", result="denied")
    assert denied.count() == 7
