"""A/B delegation: new tasks route to the backup; open tasks move at the start of an
absence and back at its end (docs/workflow.md#delegation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.accounts.actions.absence import declare_absence, end_absence
from api.audit.models import AuditEvent
from api.common.errors import ApiError
from api.workflow import actions, selectors
from api.workflow.models import Task, TaskState


def _absent(demo, name: str, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        return declare_absence(
            demo.user(name),
            demo.user(name),
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=2),
            reason="出差",
        )


def test_new_task_routes_to_backup_and_trail_names_both(
    demo, outgoing, django_capture_on_commit_callbacks
):
    _absent(demo, "leader1", django_capture_on_commit_callbacks)
    document, _ = outgoing()
    actions.approve(demo.open_task("director", document).pk, demo.user("director"))
    task = demo.open_task("deputy1", document)
    assert task.on_behalf_of == demo.user("leader1")
    assert not Task.objects.filter(assignee=demo.user("leader1"), document=document).exists()
    actions.approve(task.pk, demo.user("deputy1"))
    entry = next(e for e in selectors.trail(document) if e["task_id"] == task.pk)
    assert entry["actor_label"] == "吴强 代 张伟"
    assert entry["actor"] == {
        "id": demo.user("deputy1").pk,
        "display_name": demo.user("deputy1").display_name,
    }
    assert entry["on_behalf_of"]["id"] == demo.user("leader1").pk
    event = AuditEvent.objects.get(action="task.approved", detail__task_id=task.pk)
    assert event.actor_username == "deputy1" and event.on_behalf_of_username == "leader1"


def test_absence_moves_open_tasks_and_its_end_returns_the_unfinished(
    demo, outgoing, django_capture_on_commit_callbacks
):
    first, _ = outgoing(title="一号件")
    second, _ = outgoing(title="二号件")
    for document in (first, second):
        actions.approve(demo.open_task("director", document).pk, demo.user("director"))
    absence = _absent(demo, "leader1", django_capture_on_commit_callbacks)
    moved = Task.objects.filter(on_behalf_of=demo.user("leader1"), state=TaskState.OPEN)
    assert moved.count() == 2
    assert all(t.assignee == demo.user("deputy1") for t in moved)
    # leader1 no longer holds them
    with pytest.raises(ApiError) as error:
        actions.approve(moved[0].pk, demo.user("leader1"))
    assert error.value.status_code == 404
    done = demo.open_task("deputy1", first)
    actions.approve(done.pk, demo.user("deputy1"), "同意（代）")

    with django_capture_on_commit_callbacks(execute=True):
        end_absence(demo.user("leader1"), absence)
    back = demo.open_task("leader1", second)
    assert back.on_behalf_of is None
    done.refresh_from_db()
    assert done.state == TaskState.DONE and done.assignee == demo.user("deputy1")
    assert done.on_behalf_of == demo.user("leader1") and done.opinion == "同意（代）"
    assert not Task.objects.filter(assignee=demo.user("deputy1"), state=TaskState.OPEN).exists()
    assert AuditEvent.objects.filter(action="task.delegated").count() == 2
    assert AuditEvent.objects.filter(action="task.undelegated").count() == 1


def test_backup_may_act_for_an_absent_assignee_before_the_move(
    demo, outgoing, django_capture_on_commit_callbacks
):
    document, _ = outgoing()
    actions.approve(demo.open_task("director", document).pk, demo.user("director"))
    task = demo.open_task("leader1", document)
    now = timezone.now()
    # An absence recorded without the signal having run yet (the beat sweep is late).
    from api.accounts.models import Absence

    Absence.objects.create(
        user=demo.user("leader1"),
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=1),
        created_by=demo.user("office_admin"),
    )
    assert selectors.task_or_404(demo.user("deputy1"), task.pk) == task
    assert selectors.allowed_actions(task, demo.user("deputy1"))["approve"]["allowed"]
    actions.approve(task.pk, demo.user("deputy1"))
    task.refresh_from_db()
    assert task.assignee == demo.user("deputy1") and task.on_behalf_of == demo.user("leader1")
    with pytest.raises(ApiError):
        actions.approve(task.pk, demo.user("leader2"))
