"""The zero-internet ladder: in-app → office IM (XMPP, a real Prosody) → SMS over SMPP
(the fake SMSC), with the SMSC's delivery receipts in the notification's trail.

Docs: docs/notifications.md#zero-internet-profile. FCM and Web Push are off; the only
channels are the in-app list/stream, Prosody on loopback and the SMSC on loopback.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from api.notify import delivery, ladder, receipts
from api.notify.actions import notify
from api.notify.models import Channel, Delivery, Notification, SmsPart
from api.workflow import actions as workflow
from notifications.channels.sms_smpp import Receipt, SmppReceiptListener
from notifications.fakes.smsc import running_smsc
from tests.notifications.prosody import prosody_server, recipient
from tests.personas import client_for

pytestmark = pytest.mark.django_db

SERVICE, SERVICE_PASSWORD = "govdesk", "svc-pass-1"
PEOPLE = {"leader1": "l1-pass", "leader2": "l2-pass", "leader3": "l3-pass"}
MOBILES = {"leader1": "13800138001", "leader2": "13800138002", "leader3": "13800138003"}
IM_AFTER, SMS_AFTER = 5, 15


@pytest.fixture(scope="module")
def prosody(tmp_path_factory):
    users = {SERVICE: SERVICE_PASSWORD, **PEOPLE}
    with prosody_server(tmp_path_factory.mktemp("prosody"), users) as server:
        yield server


@pytest.fixture
def smsc():
    with running_smsc(system_id="govdesk", password="smpppass") as fake:
        yield fake


@pytest.fixture
def zero_internet(settings, prosody, smsc, demo):
    """The documented profile: no FCM, no Web Push, XMPP and SMPP on loopback."""
    settings.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE = ""
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.GOVDESK_NOTIFY_QUIET_HOURS = None  # the test must not depend on the hour
    every = dict.fromkeys(("very_urgent", "high", "normal", "low"), 0)
    settings.GOVDESK_NOTIFY_XMPP_AFTER_MINUTES = {**every, "normal": IM_AFTER, "very_urgent": 1}
    settings.GOVDESK_NOTIFY_SMS_AFTER_MINUTES = {**every, "normal": SMS_AFTER, "very_urgent": 2}
    settings.GOVDESK_NOTIFY_XMPP_JID = prosody.jid(SERVICE)
    settings.GOVDESK_NOTIFY_XMPP_PASSWORD = SERVICE_PASSWORD
    settings.GOVDESK_NOTIFY_XMPP_HOST, settings.GOVDESK_NOTIFY_XMPP_PORT = (
        prosody.host,
        prosody.port,
    )
    settings.GOVDESK_NOTIFY_XMPP_CA_FILE = prosody.ca_file
    settings.GOVDESK_NOTIFY_XMPP_JID_PATTERN = "{username}@" + prosody.domain
    settings.GOVDESK_NOTIFY_SMS_PROVIDER = "smpp"
    settings.GOVDESK_NOTIFY_SMS_SIGN_NAME = ""
    settings.GOVDESK_NOTIFY_SMPP_HOST, settings.GOVDESK_NOTIFY_SMPP_PORT = smsc.host, smsc.port
    settings.GOVDESK_NOTIFY_SMPP_SYSTEM_ID = "govdesk"
    settings.GOVDESK_NOTIFY_SMPP_PASSWORD = "smpppass"
    settings.GOVDESK_NOTIFY_SMPP_SOURCE_ADDR = "106900001"
    for name, mobile in MOBILES.items():
        user = demo.user(name)
        user.mobile = mobile
        user.save(update_fields=["mobile"])
    return settings


def _receive_receipts(smsc, until) -> None:
    """Run the receipt receiver (what ``notify_smpp_receipts`` loops on) until ``until()``."""
    listener = SmppReceiptListener(smsc.host, smsc.port, "govdesk", "smpppass")
    deadline = time.monotonic() + 30
    try:
        while not until():
            assert time.monotonic() < deadline, "no receipt arrived"
            listener.poll(receipts.record_receipt, wait=0.2)
    finally:
        listener.close()


def _task_note(demo, name: str) -> Notification:
    return Notification.objects.get(recipient=demo.user(name), kind="task_opened")


def test_unread_approval_climbs_im_then_sms_and_the_receipt_says_delivered(
    zero_internet, outgoing, demo, prosody, smsc
):
    document, _ = outgoing()
    workflow.approve(demo.open_task("director", document).pk, demo.user("director"))
    n1, n2, n3 = (_task_note(demo, name) for name in ("leader1", "leader2", "leader3"))
    created = n1.created_at
    assert n1.xmpp_due_at == created + timedelta(minutes=IM_AFTER)
    # leader3 reads it in the app at once: nothing else ever reaches them.
    client = client_for(demo.user("leader3"))
    assert client.post(f"/api/v1/notifications/{n3.pk}/read/").status_code == 200

    with recipient(prosody, "leader1", PEOPLE["leader1"]) as inbox:
        at = created + timedelta(minutes=IM_AFTER)
        assert ladder.run(at)["xmpp"]["queued"] == 2  # leader1 and leader2, not leader3
        assert delivery.deliver(None, at) == {"ok": 2}
        [im] = inbox.wait_for(1)
    assert im["body"].startswith(f"待办：{document.title}")
    assert im["from"] == prosody.jid(SERVICE)

    # leader2 reads it after the IM: the SMS rung stops for them.
    client = client_for(demo.user("leader2"))
    assert client.post(f"/api/v1/notifications/{n2.pk}/read/").status_code == 200

    at = created + timedelta(minutes=SMS_AFTER)
    assert ladder.run(at)["sms"]["queued"] == 1
    assert delivery.deliver(None, at) == {"ok": 1}
    [sms] = smsc.messages
    assert sms["recipient"] == MOBILES["leader1"] and sms["text"].startswith("待办：")
    row = Delivery.objects.get(notification=n1, channel=Channel.SMS)
    assert row.state == "sent" and row.receipt_state == ""

    _receive_receipts(smsc, lambda: Delivery.objects.get(pk=row.pk).receipt_state)
    response = client_for(demo.user("leader1")).get(f"/api/v1/notifications/{n1.pk}/trail/")
    assert response.status_code == 200
    steps = response.json()["steps"]
    assert [(s["rung"], s["outcome"]) for s in steps] == [
        ("in_app", "unread"),
        ("xmpp", "sent"),
        ("sms", "delivered"),
    ]
    assert steps[2]["address"] == "138****8001" and steps[2]["parts"] == 1

    # Nothing more for leader2 (read after the IM) or leader3 (read at once).
    assert not Delivery.objects.filter(notification=n2, channel=Channel.SMS).exists()
    assert not Delivery.objects.filter(notification=n3).exists()
    assert [m["recipient"] for m in smsc.messages] == [MOBILES["leader1"]]
    trail2 = client.get(f"/api/v1/notifications/{n2.pk}/trail/").json()["steps"]
    assert [(s["rung"], s["outcome"]) for s in trail2] == [("in_app", "read"), ("xmpp", "sent")]


def test_a_200_character_chinese_sms_arrives_as_three_ucs2_parts(zero_internet, demo, smsc):
    title = "关于做好年底安全生产检查工作的紧急通知" * 8  # 19 × 8 = 152 characters
    body = "请各单位于本周五下班前将检查材料报送市政府办公室" * 2  # 24 × 2 = 48
    text = f"{title[:151]}\n{body}"
    assert len(text) == 200
    n = notify(
        recipient=demo.user("leader1"), kind="system", title=title[:151], body=body,
        urgency="very_urgent", dedup_key="long:1",
    )  # fmt: skip
    at = n.created_at + timedelta(minutes=2)
    ladder.run(at)
    delivery.deliver(None, at)
    [sms] = [m for m in smsc.messages if m["recipient"] == MOBILES["leader1"]]
    assert sms["parts"] == 3 and sms["data_coding"] == 0x08 and sms["text"] == text
    row = Delivery.objects.get(notification=n, channel=Channel.SMS)
    assert SmsPart.objects.filter(delivery=row).count() == 3
    _receive_receipts(smsc, lambda: Delivery.objects.get(pk=row.pk).receipt_state)
    assert Delivery.objects.get(pk=row.pk).receipt_state == "delivered"


def test_an_expired_receipt_is_in_the_trail(zero_internet, demo, smsc):
    smsc.expire_numbers.add(MOBILES["leader1"])
    n = notify(
        recipient=demo.user("leader1"), kind="system", title="请审批", urgency="very_urgent",
        dedup_key="exp:1",
    )  # fmt: skip
    at = n.created_at + timedelta(minutes=2)
    ladder.run(at)
    delivery.deliver(None, at)
    row = Delivery.objects.get(notification=n, channel=Channel.SMS)
    _receive_receipts(smsc, lambda: Delivery.objects.get(pk=row.pk).receipt_state)
    assert Delivery.objects.get(pk=row.pk).receipt_state == "expired"


def test_a_receipt_before_the_worker_recorded_the_parts_is_matched_later(demo):
    receipt = Receipt(message_id="ABC", stat="DELIVRD", state="delivered")
    assert receipts.record_receipt(receipt) is None  # nothing to match yet
    n = notify(recipient=demo.user("leader1"), kind="system", title="x", dedup_key="r:1")
    row = Delivery.objects.create(notification=n, channel=Channel.SMS, address="1")
    receipts.record_parts(row.pk, ["ABC", "ABD"], timezone.now())
    assert Delivery.objects.get(pk=row.pk).receipt_state == ""  # one part outstanding
    receipts.record_receipt(Receipt(message_id="ABD", stat="DELIVRD", state="delivered"))
    assert Delivery.objects.get(pk=row.pk).receipt_state == "delivered"
    assert receipts.record_receipt(receipt) == row.pk  # the SMSC sent it again: no change
    receipts.record_receipt(Receipt(message_id="ABD", stat="ENROUTE", state=""))  # ignored
    assert Delivery.objects.get(pk=row.pk).receipt_state == "delivered"


def test_receiver_command_runs_and_stores_receipts(zero_internet, demo, smsc):
    n = notify(
        recipient=demo.user("leader1"), kind="system", title="请审批", urgency="very_urgent",
        dedup_key="cmd:1",
    )  # fmt: skip
    at = n.created_at + timedelta(minutes=2)
    ladder.run(at)
    delivery.deliver(None, at)
    row = Delivery.objects.get(notification=n, channel=Channel.SMS)
    deadline = time.monotonic() + 30
    while not Delivery.objects.get(pk=row.pk).receipt_state:
        assert time.monotonic() < deadline, "the command stored no receipt"
        call_command("notify_smpp_receipts", seconds=1)
    assert Delivery.objects.get(pk=row.pk).receipt_state == "delivered"
