"""notify(): written in the causing transaction, de-duplicated, announced after commit.

Docs: docs/notifications.md#notify and #what-notifies.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from api.notify import delivery
from api.notify.actions import Pending, notify, notify_many
from api.notify.models import Channel, Delivery, DeliveryState, Device, Notification
from api.notify.signals import notification_created
from api.workflow import actions as workflow
from tests.api.notify.conftest import fcm_token
from tests.personas import client_for

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def _device(user, token: str | None = None) -> Device:
    from api.notify.actions import register_device

    device, _ = register_device(user, kind="fcm", token=token or fcm_token(), label="手机")
    return device


def test_a_new_task_notifies_its_assignee_in_the_same_transaction(outgoing, demo):
    document, _ = outgoing(urgency="very_urgent")
    # The demo city's own seeding (mail, schedule, meetings) notifies people too.
    [n] = Notification.objects.filter(document=document)
    task = demo.open_task("director", document)
    assert (n.recipient, n.kind, n.task_id, n.document_id) == (
        demo.user("director"),
        "task_opened",
        task.pk,
        document.pk,
    )
    assert n.title == f"待办：{document.title}"
    assert n.urgency == "very_urgent" and n.read_at is None
    assert n.dedup_key == f"task_opened:{task.pk}:{demo.user('director').pk}"


def test_document_urgency_maps_to_notification_urgency(outgoing):
    document, _ = outgoing(urgency="urgent")
    assert Notification.objects.get(document=document).urgency == "high"


def test_approving_notifies_every_countersigner(outgoing, demo):
    document, _ = outgoing()
    workflow.approve(demo.open_task("director", document).pk, demo.user("director"))
    names = set(
        Notification.objects.filter(kind="task_opened").values_list(
            "recipient__username", flat=True
        )
    )
    assert names == {"director", "leader1", "leader2", "leader3"}


def test_a_rolled_back_action_sends_nothing(
    outgoing, demo, fcm, django_capture_on_commit_callbacks
):
    _device(demo.user("director"))
    # The demo city's seeding (mail, schedule, meetings) has notified people already.
    seeded = Notification.objects.count()
    received: list[int] = []

    def listener(sender, notification_id, recipient_id, **kwargs):
        received.append(notification_id)

    notification_created.connect(listener)
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(Boom),
            transaction.atomic(),
        ):
            outgoing()
            assert Notification.objects.count() == seeded + 1  # written inside …
            assert Delivery.objects.count() == 1
            raise Boom  # … and the action fails after notify
    finally:
        notification_created.disconnect(listener)
    assert Notification.objects.count() == seeded
    assert Delivery.objects.count() == 0
    assert callbacks == [] and received == []
    assert delivery.deliver(None) == {}
    assert fcm.sent == [] and fcm.token_requests == 0


def test_committed_notify_announces_and_enqueues_after_commit(
    demo, fcm, django_capture_on_commit_callbacks, monkeypatch
):
    user = demo.user("leader1")
    _device(user)
    queued: list[list[int]] = []
    monkeypatch.setattr("api.notify.tasks.deliver.delay", queued.append)
    received: list[tuple[int, int]] = []

    def listener(sender, notification_id, recipient_id, **kwargs):
        received.append((notification_id, recipient_id))

    notification_created.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            n = notify(recipient=user, kind="system", title="系统维护", dedup_key="system:1")
            assert received == [] and queued == []  # nothing before commit
    finally:
        notification_created.disconnect(listener)
    assert n is not None and received == [(n.pk, user.pk)]
    [row] = Delivery.objects.filter(notification=n)
    assert queued == [[row.pk]] and row.channel == Channel.FCM
    # The worker then delivers it to the fake, keyed by the outbox row id.
    assert delivery.deliver(queued[0]) == {"ok": 1}
    assert fcm.sent[0]["data"]["idempotency_key"] == f"govdesk-delivery-{row.pk}"


def test_the_same_event_notifies_once(demo, django_capture_on_commit_callbacks):
    user = demo.user("leader1")
    _device(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = notify(recipient=user, kind="urge", title="催办", dedup_key="urge:7")
        second = notify(recipient=user, kind="urge", title="催办(重复)", dedup_key="urge:7")
    assert first is not None and second is None
    assert Notification.objects.filter(recipient=user, dedup_key="urge:7").count() == 1
    assert Delivery.objects.count() == 1
    # one announcement + one enqueue, both for the first only
    assert len(callbacks) == 2
    # another recipient with the same key is a different notification
    assert notify(recipient=demo.user("leader2"), kind="urge", title="催办", dedup_key="urge:7")


def test_notify_many_skips_duplicates_inside_and_across_calls(demo):
    a, b = demo.user("leader1"), demo.user("leader2")
    created = notify_many(
        [
            Pending(a, "system", "x", dedup_key="k1"),
            Pending(a, "system", "x again", dedup_key="k1"),
            Pending(b, "system", "x", dedup_key="k1"),
        ]
    )
    assert [(n.recipient_id, n.title) for n in created] == [(a.pk, "x"), (b.pk, "x")]
    assert notify_many([Pending(a, "system", "y", dedup_key="k1")]) == []


def test_unknown_kind_or_urgency_is_a_programming_error(demo):
    with pytest.raises(ValueError):
        notify(recipient=demo.user("leader1"), kind="nope", title="x", dedup_key="a")
    with pytest.raises(ValueError):
        notify(recipient=demo.user("leader1"), kind="system", title="x", urgency="x", dedup_key="a")


def test_opening_the_task_marks_its_notification_read(outgoing, demo):
    document, _ = outgoing()
    task = demo.open_task("director", document)
    other = notify(recipient=demo.user("director"), kind="system", title="x", dedup_key="s:1")
    response = client_for(demo.user("director")).get(f"/api/v1/tasks/{task.pk}/")
    assert response.status_code == 200
    assert Notification.objects.get(task=task).read_at is not None
    assert Notification.objects.get(pk=other.pk).read_at is None  # only that task's


def test_device_muted_by_user_or_urgency_gets_no_push_row(demo):
    from api.notify.actions import update_device, update_preferences

    user = demo.user("leader1")
    quiet = _device(user)
    update_device(user, quiet, {"min_urgency": "high"})
    notify(recipient=user, kind="system", title="普通", dedup_key="n:1")
    assert Delivery.objects.count() == 0
    notify(recipient=user, kind="system", title="急", urgency="high", dedup_key="n:2")
    assert Delivery.objects.count() == 1
    update_preferences(user, {"push_enabled": False})
    notify(recipient=user, kind="system", title="特急", urgency="very_urgent", dedup_key="n:3")
    assert Delivery.objects.count() == 1


def test_deliveries_of_a_removed_device_are_skipped(demo, fcm):
    user = demo.user("leader1")
    device = _device(user)
    n = notify(recipient=user, kind="system", title="x", dedup_key="n:1")
    Device.objects.filter(pk=device.pk).delete()
    assert delivery.deliver(None) == {"skipped": 1}
    row = Delivery.objects.get(notification=n)
    assert (row.state, row.error_code) == (DeliveryState.SKIPPED, "device_removed")
    assert fcm.sent == []
