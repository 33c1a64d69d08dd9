"""The outbox worker: claim with a lease, send, classify, disable, mark broken.

Docs: docs/notifications.md#the-outbox-and-the-worker. The providers are the
loopback fakes of notifications/fakes (real protocols, signatures checked).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from api.notify import delivery, registry
from api.notify.actions import notify, queue_delivery, register_device
from api.notify.models import (
    Channel,
    ChannelHealth,
    Delivery,
    DeliveryState,
    Device,
    NotificationPreference,
)
from notifications.channels.base import Result
from notifications.fakes import fcm_error
from tests.api.notify.conftest import fcm_token, sms_sent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_quiet_hours(settings):
    """These tests send SMS on the real clock; the worker's quiet-hours hold has its
    own test (on its own clock) below, so they must not depend on the time of day."""
    settings.GOVDESK_NOTIFY_QUIET_HOURS = None


def _pushed(user, title="待办", key="n:1", urgency="normal"):
    return notify(recipient=user, kind="system", title=title, dedup_key=key, urgency=urgency)


def test_push_reaches_the_fake_once_and_the_row_is_sent(demo, fcm):
    user = demo.user("leader1")
    token = fcm_token()
    register_device(user, kind="fcm", token=token)
    n = _pushed(user, urgency="very_urgent")
    assert delivery.deliver(None) == {"ok": 1}
    [row] = Delivery.objects.filter(notification=n)
    assert row.state == DeliveryState.SENT and row.sent_at is not None
    assert row.provider_message_id == "projects/govdesk-test/messages/1"
    assert row.attempts == 1 and row.lease_until is None
    [sent] = fcm.sent
    assert sent["token"] == token
    assert sent["notification"] == {"title": "待办", "body": "系统消息"}
    assert sent["data"]["notification_id"] == str(n.pk)
    assert sent["data"]["idempotency_key"] == row.idempotency_key
    assert sent["android"]["priority"] == "high"
    # a second run (the task redelivered by the broker) sends nothing again
    assert delivery.deliver([row.pk]) == {}
    assert len(fcm.sent) == 1


def test_a_dead_token_disables_the_device(demo, fcm):
    user = demo.user("leader1")
    device, _ = register_device(user, kind="fcm", token=fcm_token())
    fcm.errors[device.token] = fcm_error(404, "NOT_FOUND", "UNREGISTERED")
    _pushed(user)
    assert delivery.deliver(None) == {"permanent_error": 1}
    device.refresh_from_db()
    assert not device.enabled and device.disabled_reason == "provider: UNREGISTERED"
    assert Delivery.objects.get().state == DeliveryState.FAILED
    assert not ChannelHealth.objects.exists()  # the channel itself is fine
    _pushed(user, key="n:2")  # a disabled device gets no further rows
    assert Delivery.objects.count() == 1


def test_a_configuration_error_marks_the_channel_broken_until_the_config_changes(
    demo, fcm, settings
):
    user = demo.user("leader1")
    device, _ = register_device(user, kind="fcm", token=fcm_token())
    fcm.errors[device.token] = fcm_error(403, "PERMISSION_DENIED", "THIRD_PARTY_AUTH_ERROR")
    _pushed(user)
    assert delivery.deliver(None) == {"permanent_error": 1}
    health = ChannelHealth.objects.get(channel=Channel.FCM)
    assert health.broken_at is not None and health.error_code
    device.refresh_from_db()
    assert device.enabled  # not the device's fault

    fcm.errors.clear()
    n2 = _pushed(user, key="n:2")
    now = timezone.now()
    assert delivery.deliver(None, now) == {"held": 1}
    row = Delivery.objects.get(notification=n2)
    assert row.state == DeliveryState.PENDING and row.error_code == "channel_broken"
    assert row.next_attempt_at > now
    assert len(fcm.sent) == 0

    # The operator fixes the configuration (here: the FCM URL spelled differently).
    settings.GOVDESK_NOTIFY_FCM_URL = fcm.url + "v1/projects/govdesk-test/messages:send"
    assert delivery.deliver(None, row.next_attempt_at) == {"ok": 1}
    assert len(fcm.sent) == 1


def test_transient_errors_back_off_and_give_up_after_max_attempts(demo, fcm, settings):
    settings.GOVDESK_NOTIFY_MAX_ATTEMPTS = 3
    settings.GOVDESK_NOTIFY_RETRY_MAX_SECONDS = 120
    user = demo.user("leader1")
    device, _ = register_device(user, kind="fcm", token=fcm_token())
    # 429, not 503: firebase-admin's own HTTP adapter retries 500/503 (slowly) itself.
    fcm.errors[device.token] = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
    _pushed(user)
    now = timezone.now()
    waits = []
    for attempt in (1, 2):
        assert delivery.deliver(None, now) == {"transient_error": 1}
        row = Delivery.objects.get()
        assert row.state == DeliveryState.PENDING and row.attempts == attempt
        assert row.error_code == "QUOTA_EXCEEDED"
        waits.append((row.next_attempt_at - now).total_seconds())
        assert 1 <= waits[-1] <= 120
        assert delivery.deliver(None, now) == {}  # not due yet: nobody claims it
        now = row.next_attempt_at
    assert delivery.deliver(None, now) == {"transient_error": 1}
    row = Delivery.objects.get()
    assert row.state == DeliveryState.FAILED and row.attempts == 3


def test_backoff_is_bounded_and_honours_the_provider_hint(settings):
    settings.GOVDESK_NOTIFY_RETRY_MAX_SECONDS = 600
    assert delivery.backoff_seconds(1, None, rand=lambda: 1.0) == 30
    assert delivery.backoff_seconds(3, None, rand=lambda: 1.0) == 120
    assert delivery.backoff_seconds(30, None, rand=lambda: 1.0) == 600
    assert delivery.backoff_seconds(1, 45.0, rand=lambda: 0.0) == 45
    assert delivery.backoff_seconds(1, 10_000.0, rand=lambda: 0.0) == 600


def test_an_unconfigured_channel_is_skipped_with_its_reason(demo):
    user = demo.user("leader1")
    user.mobile = "13800138000"
    user.save()
    register_device(user, kind="fcm", token=fcm_token())
    n = _pushed(user)
    queue_delivery(n, Channel.SMS, user.mobile, timezone.now())
    assert delivery.deliver(None) == {"skipped": 2}
    reasons = dict(Delivery.objects.values_list("channel", "error_code"))
    assert reasons == {"fcm": "fcm_not_configured", "sms": "sms_not_configured"}


def test_an_unreadable_service_account_is_a_reason_not_a_crash(demo, settings, tmp_path):
    settings.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE = str(tmp_path / "missing.json")
    user = demo.user("leader1")
    register_device(user, kind="fcm", token=fcm_token())
    _pushed(user)
    assert delivery.deliver(None) == {"skipped": 1}
    assert Delivery.objects.get().error_code.startswith("fcm_service_account_unreadable")


def test_sms_goes_to_the_signed_provider_with_the_row_id_as_out_id(demo, sms):
    user = demo.user("leader1")
    n = _pushed(user, title="关于春节值班安排的通知")
    row = queue_delivery(n, Channel.SMS, "13800138000", timezone.now())
    assert delivery.deliver(None) == {"ok": 1}
    [sent] = sms_sent(sms)
    assert sent["recipient"] == "13800138000" and sent["out_id"] == row.idempotency_key
    assert sent["params"] == {"title": "关于春节值班安排的通知"}
    assert sent["template"] == "SMS_465000001"


def test_an_invalid_number_is_not_used_again(demo, sms):
    user = demo.user("leader1")
    sms.code_for["13800000000"] = "isv.MOBILE_NUMBER_ILLEGAL"
    n = _pushed(user)
    queue_delivery(n, Channel.SMS, "13800000000", timezone.now())
    assert delivery.deliver(None) == {"permanent_error": 1}
    assert NotificationPreference.objects.get(user=user).bad_mobile == "13800000000"
    assert not ChannelHealth.objects.exists()


def test_claims_are_exclusive_and_leases_expire(demo, fcm):
    user = demo.user("leader1")
    register_device(user, kind="fcm", token=fcm_token())
    _pushed(user)
    now = timezone.now()
    [mine] = delivery.claim(None, now)
    assert delivery.claim(None, now) == []  # held by "another worker"
    assert delivery.due_ids(now) == []
    later = mine.lease_until + timedelta(seconds=1)  # the holder died
    assert delivery.due_ids(later) == [mine.pk]
    [again] = delivery.claim(None, later)
    assert again.claim_token != mine.claim_token and again.attempts == 2
    # The first worker comes back: its outcome is ignored (it no longer holds it).
    assert delivery._finish(mine, state=DeliveryState.SENT) is False
    assert Delivery.objects.get().claim_token == again.claim_token


def test_a_channel_that_raises_does_not_lose_the_rows(demo, fcm, monkeypatch):
    user = demo.user("leader1")
    register_device(user, kind="fcm", token=fcm_token())
    _pushed(user)
    resolved = registry.resolve(Channel.FCM)

    def broken(messages):
        raise RuntimeError("bug")

    monkeypatch.setattr(resolved.channel, "send", broken)
    assert delivery.deliver(None) == {"transient_error": 1}
    row = Delivery.objects.get()
    assert row.state == DeliveryState.PENDING and row.error_code == "channel_exception"


def test_a_batch_that_outlives_its_lease_leaves_the_rest_to_the_worker_that_took_over(
    demo, settings, monkeypatch
):
    """A slow provider: while this worker is still sending, its lease runs out and
    another worker claims the rows. The rows it has not reached yet must not be sent
    by both -- only the slice in flight can be (the documented window)."""
    settings.GOVDESK_NOTIFY_SMS_TEMPLATE_PARAMS = ["title"]
    monkeypatch.setattr(delivery, "DEFAULT_SEND_SLICE", 1, raising=False)
    user = demo.user("leader1")
    now = timezone.now()
    rows = []
    for i in range(3):
        n = notify(recipient=user, kind="system", title=f"短信{i}", dedup_key=f"slow:{i}")
        assert n is not None
        rows.append(queue_delivery(n, Channel.SMS, f"1380000000{i}", now))
    keys: list[str] = []
    later = now + timedelta(seconds=settings.GOVDESK_NOTIFY_LEASE_SECONDS + 1)

    class SlowProvider:
        name = "sms"
        took_over: dict[str, int] | None = None

        def send(self, messages):
            keys.extend(m.idempotency_key for m in messages)
            if self.took_over is None:  # the first call outlives the lease...
                self.took_over = {}
                # ...and a second worker, run by the sweep, claims and sends them all.
                self.took_over = delivery.deliver(None, later)
            return [Result.success(m) for m in messages]

    provider = SlowProvider()
    monkeypatch.setattr(
        registry, "resolve", lambda name: registry.Resolved(name, provider, fingerprint="slow")
    )
    first = delivery.deliver(None, now)
    assert provider.took_over == {"ok": 3}
    assert first == {"ok": 1, "taken_over": 2}
    # The slice in flight went out twice (the same idempotency key); the others once.
    assert sorted(keys) == sorted(
        [rows[0].idempotency_key] * 2 + [rows[1].idempotency_key, rows[2].idempotency_key]
    )
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_an_sms_queued_before_quiet_hours_or_retried_into_them_waits_for_the_morning(
    demo, sms, settings
):
    """The ladder holds SMS due at night; the worker must too: a row queued at 21:59
    and sent after 22:00 (a backlog, a retry) would otherwise wake someone up."""
    from api.env import parse_quiet_hours
    from tests.api.notify.conftest import local

    settings.GOVDESK_NOTIFY_QUIET_HOURS = parse_quiet_hours("X", "22:00-07:00")
    user = demo.user("leader1")
    before = local(2026, 11, 24, 21, 59)
    normal = notify(recipient=user, kind="system", title="普通", dedup_key="q:1", now=before)
    urgent = notify(
        recipient=user, kind="system", title="特急", dedup_key="q:2", urgency="very_urgent"
    )
    assert normal is not None and urgent is not None
    held = queue_delivery(normal, Channel.SMS, "13800138000", before)
    queue_delivery(urgent, Channel.SMS, "13800138001", before)
    assert delivery.deliver(None, local(2026, 11, 24, 22, 1)) == {"held": 1, "ok": 1}
    assert [s["recipient"] for s in sms_sent(sms)] == ["13800138001"]  # very urgent only
    row = Delivery.objects.get(pk=held.pk)
    assert row.state == DeliveryState.PENDING and row.error_code == "held_by_quiet_hours"
    assert row.next_attempt_at == local(2026, 11, 25, 7, 0) and row.attempts == 0
    assert delivery.deliver(None, local(2026, 11, 25, 6, 59)) == {}  # not due yet
    assert delivery.deliver(None, local(2026, 11, 25, 7, 0)) == {"ok": 1}
    assert [s["recipient"] for s in sms_sent(sms)] == ["13800138001", "13800138000"]


def test_sweep_enqueues_due_rows_and_expired_leases(demo, monkeypatch):
    from api.notify import tasks

    user = demo.user("leader1")
    register_device(user, kind="fcm", token=fcm_token())
    register_device(user, kind="fcm", token=fcm_token())
    _pushed(user)
    first, second = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=first.pk).update(
        state=DeliveryState.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    Delivery.objects.filter(pk=second.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.deliver, "delay", queued.append)
    assert tasks.sweep() == 1
    assert queued == [[first.pk]]


def test_moved_device_is_not_pushed_for_its_previous_owner(demo, fcm):
    a, b = demo.user("leader1"), demo.user("leader2")
    token = fcm_token()
    register_device(a, kind="fcm", token=token)
    _pushed(a)
    device, created = register_device(b, kind="fcm", token=token)  # b signs in on that phone
    assert not created and device.user == b and Device.objects.count() == 1
    assert delivery.deliver(None) == {"skipped": 1}
    assert fcm.sent == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claimers_never_share_a_row(demo):
    """On PostgreSQL: two workers claiming at the same moment (FOR UPDATE SKIP LOCKED
    plus the conditional UPDATE) get disjoint sets that together cover every row."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks); SQLite serialises writers anyway")
    user = demo.user("leader1")
    for _ in range(6):
        register_device(user, kind="fcm", token=fcm_token())
    for i in range(20):
        _pushed(user, key=f"n:{i}")
    total = Delivery.objects.count()
    assert total == 120
    now = timezone.now()
    barrier = threading.Barrier(4)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            got: list[int] = []
            while batch := delivery.claim(None, now, limit=7):
                got.extend(d.pk for d in batch)
            results.append(got)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    claimed = [pk for got in results for pk in got]
    assert len(claimed) == len(set(claimed)) == total
    assert sum(1 for got in results if got) >= 2  # they really ran side by side


def test_web_push_goes_through_the_api_registration_to_the_decrypting_receiver(demo, settings):
    """A subscription registered over HTTP gets the push, VAPID-signed and encrypted;
    the receiver (a loopback push service) decrypts it. A gone subscription disables
    the device."""
    from notifications.channels.webpush import generate_vapid_keys
    from notifications.fakes import WebPushReceiver, serve
    from tests.personas import client_for

    private, public = generate_vapid_keys()
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT = "mailto:it@xincheng.gov.example"
    user = demo.user("leader1")
    receiver = WebPushReceiver()
    with serve(receiver) as server:
        receiver.url = server.url
        live, gone = receiver.subscribe(public), receiver.subscribe(public)
        client = client_for(user)
        for sub in (live, gone):
            body = {"kind": "webpush", "subscription": json.loads(sub.json())}
            assert client.post("/api/v1/me/devices/push/", body, format="json").status_code == 201
        receiver.unsubscribe(gone.id)
        n = _pushed(user, title="新待办")
        assert delivery.deliver(None) == {"ok": 1, "permanent_error": 1}
    [payload] = receiver.plaintexts(live.id)
    row = Delivery.objects.get(notification=n, state=DeliveryState.SENT)
    assert payload["title"] == "新待办" and payload["idempotency_key"] == row.idempotency_key
    assert payload["data"]["notification_id"] == str(n.pk)
    dead = Device.objects.get(enabled=False)
    assert dead.disabled_reason == "provider: subscription_gone"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ((400, {"error": "nope"}), "http_400"),
        ((403, {"error": "VAPID key differs"}), "vapid_rejected"),
    ],
)
def test_one_users_web_push_endpoint_cannot_break_the_channel_for_everybody(
    demo, settings, reply, code
):
    """A Web Push endpoint is a URL the user registered: whatever it answers, only that
    device is disabled. Marking the channel broken would hold every other user's push
    until the operator changed the configuration."""
    from notifications.channels.webpush import generate_vapid_keys
    from notifications.fakes import WebPushReceiver, serve

    private, public = generate_vapid_keys()
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT = "mailto:it@xincheng.gov.example"
    mallory, victim = demo.user("leader1"), demo.user("leader2")
    receiver = WebPushReceiver()
    with serve(receiver) as server:
        receiver.url = server.url
        bad, good = receiver.subscribe(public), receiver.subscribe(public)
        receiver.responses[bad.id] = reply  # the endpoint answers what its owner likes
        register_device(mallory, kind="webpush", subscription=json.loads(bad.json()))
        register_device(victim, kind="webpush", subscription=json.loads(good.json()))
        _pushed(mallory, key="n:1")
        assert delivery.deliver(None) == {"permanent_error": 1}
        _pushed(victim, key="n:2")
        assert delivery.deliver(None) == {"ok": 1}
    assert not ChannelHealth.objects.exists()
    assert len(receiver.plaintexts(good.id)) == 1
    disabled = Device.objects.get(user=mallory)
    assert not disabled.enabled and disabled.disabled_reason == f"provider: {code}"
    assert Device.objects.get(user=victim).enabled


def test_the_worker_tasks_ack_late_and_beat_schedules_the_sweep_and_the_ladder(settings):
    from api.celery import app
    from api.notify import tasks

    for task in (tasks.deliver, tasks.sweep, tasks.run_ladder):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.name in app.tasks
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"api.notify.tasks.sweep", "api.notify.tasks.run_ladder"} <= scheduled


def test_a_broker_outage_at_commit_leaves_the_rows_for_the_sweep(demo, monkeypatch):
    from api.notify import tasks

    def down(ids):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver, "delay", down)
    user = demo.user("leader1")
    register_device(user, kind="fcm", token=fcm_token())
    _pushed(user)
    tasks.enqueue(list(Delivery.objects.values_list("pk", flat=True)))  # logged, not raised
    assert delivery.due_ids(timezone.now()) == [Delivery.objects.get().pk]


def test_run_ladder_task_runs_the_ladder(demo, monkeypatch):
    from api.notify import ladder, tasks

    seen = []
    monkeypatch.setattr(ladder, "run", lambda now: seen.append(now) or {"sms": {}})
    tasks.run_ladder()
    assert len(seen) == 1 and seen[0].tzinfo is not None
