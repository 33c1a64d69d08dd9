"""Internal mail (docs/mail.md): send to people and units, bcc never revealed, read
receipts, recall rules, no duplicate delivery on a retried send, bad input."""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from api.mail.models import Entry, Mail
from api.notify.models import Notification
from tests.api.mail.conftest import text_file
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.django_db, requires_postgres]


def _inbox(world, name):
    response = world.client(name).get("/api/v1/mail/messages/", {"folder": "inbox"})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_bcc_is_never_revealed(world):
    p = world.p
    sent = world.send(
        "bob",
        subject="人事安排",
        body="正文",
        to=[f"user:{p['alice'].pk}"],
        cc=[f"user:{p['leo'].pk}"],
        bcc=[f"user:{p['charlie'].pk}", f"user:{p['olga'].pk}"],
    )
    assert sent.status_code == 201, sent.content
    mine = sent.json()
    assert {a["role"] for a in mine["addresses"]} == {"to", "cc", "bcc"}  # the sender sees all
    bcc_ids = {p["charlie"].pk, p["olga"].pk}
    for name in ("alice", "leo", "charlie", "olga"):
        client = world.client(name)
        [item] = _inbox(world, name)
        detail = client.get(f"/api/v1/mail/messages/{item['id']}/").json()
        assert all(a["role"] != "bcc" for a in detail["addresses"])
        assert not {a["id"] for a in detail["addresses"] if a["kind"] == "user"} & bcc_ids
        text = str(detail)
        assert "charlie" not in text and "olga" not in text
        # receipts and the thread are the sender's / own only
        assert client.get(f"/api/v1/mail/messages/{item['id']}/receipts/").status_code == 404
        thread = client.get(f"/api/v1/mail/threads/{item['mail_id']}/").json()["results"]
        assert [e["id"] for e in thread] == [item["id"]]
    # a bcc recipient's reply-all, built from what they see, reaches no other bcc
    [olga_copy] = _inbox(world, "olga")
    assert olga_copy["role"] == "bcc"
    receipts = world.client("bob").get(f"/api/v1/mail/messages/{mine['id']}/receipts/").json()
    assert {r["recipient"]["id"] for r in receipts["results"]} == {
        p["alice"].pk,
        p["leo"].pk,
        p["charlie"].pk,
        p["olga"].pk,
    }


def test_unit_address_receipts_and_recall(world):
    p, org = world.p, world.org
    alice = world.client("alice")
    upload = alice.post("/api/v1/mail/attachments/", {"file": text_file()}, format="multipart")
    assert upload.status_code == 201, upload.content
    sent = world.send(
        "alice",
        subject="防汛会议",
        body="请准时参加。",
        to=[f"unit:{org.office.pk}:all"],
        files=[upload.json()["id"]],
    )
    assert sent.status_code == 201, sent.content
    mail = Mail.objects.get()
    office_people = {p[n].pk for n in ("bob", "leo", "olga", "oscar", "otto")}
    assert (
        set(Entry.objects.filter(mail=mail).exclude(role="from").values_list("owner_id", flat=True))
        == office_people
    )
    assert Mail.objects.count() == 1  # one stored body for all
    # two read it
    for name in ("bob", "olga"):
        [item] = _inbox(world, name)
        assert (
            world.client(name).post(f"/api/v1/mail/messages/{item['id']}/read/").status_code == 200
        )
        detail = world.client(name).get(f"/api/v1/mail/messages/{item['id']}/").json()
        assert detail["files"][0]["name"] == "通知.txt"
        assert (
            world.client(name)
            .get(f"/api/v1/mail/attachments/{detail['files'][0]['id']}/")
            .status_code
            == 200
        )
    entry = sent.json()["id"]
    receipts = alice.get(f"/api/v1/mail/messages/{entry}/receipts/", {"read": "true"}).json()
    assert {r["recipient"]["id"] for r in receipts["results"]} == {p["bob"].pk, p["olga"].pk}
    assert receipts["read"] == 2 and receipts["unread"] == 3
    # only the sender may recall; others get 404
    [leo_item] = _inbox(world, "leo")
    assert (
        world.client("leo").post(f"/api/v1/mail/messages/{leo_item['id']}/recall/").status_code
        == 409
    )
    assert world.client("charlie").post(f"/api/v1/mail/messages/{entry}/recall/").status_code == 404
    recalled = alice.post(f"/api/v1/mail/messages/{entry}/recall/")
    assert recalled.status_code == 200, recalled.content
    assert recalled.json() == {"recalled": 3, "already_read": 2}
    # the unread see a trace, not the content, nor the file
    leo = world.client("leo")
    detail = leo.get(f"/api/v1/mail/messages/{leo_item['id']}/").json()
    assert detail["recalled"] is True and detail["subject"] == "" and detail["body"] == ""
    assert detail["files"] == []
    assert leo.get(f"/api/v1/mail/attachments/{upload.json()['id']}/").status_code == 404
    assert (
        leo.post(f"/api/v1/mail/messages/{leo_item['id']}/read/").json()["error"]["code"]
        == "mail_recalled"
    )
    assert (
        Notification.objects.get(recipient=p["leo"], dedup_key=f"mail:{mail.pk}").read_at
        is not None
    )
    # the readers keep it
    [bob_item] = _inbox(world, "bob")
    assert (
        world.client("bob").get(f"/api/v1/mail/messages/{bob_item['id']}/").json()["body"]
        == "请准时参加。"
    )
    # nothing left to recall
    again = alice.post(f"/api/v1/mail/messages/{entry}/recall/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "mail_nothing_to_recall"
    assert AuditEvent.objects.filter(action="mail.recalled").count() == 1
    receipts = alice.get(f"/api/v1/mail/messages/{entry}/receipts/").json()
    assert receipts["recalled"] == 3


def test_whole_unit_needs_permission(world):
    org = world.org
    refused = world.send("charlie", to=[f"unit:{org.office.pk}:all"])
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "mail_unit_all_not_allowed"
    clerks = world.send("charlie", to=[f"unit:{org.office.pk}"])  # its clerks: anyone may
    assert clerks.status_code == 201, clerks.content
    assert list(Entry.objects.exclude(role="from").values_list("owner__username", flat=True)) == [
        "bob"
    ]


def test_retried_send_with_the_same_key_delivers_once(world):
    p = world.p
    body = {"subject": "重复", "body": "一次", "to": [f"user:{p['bob'].pk}", f"user:{p['leo'].pk}"]}
    first = world.send("alice", key="send-0001-abcdef", **body)
    second = world.send("alice", key="send-0001-abcdef", **body)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Mail.objects.count() == 1
    assert Entry.objects.filter(owner=p["bob"]).count() == 1
    assert Notification.objects.filter(recipient=p["bob"]).count() == 1
    # the response cache gone (expired, flushed): the action itself still sends once
    from django.core.cache import cache

    cache.clear()
    third = world.send("alice", key="send-0001-abcdef", **body)
    assert third.status_code == 201 and third.json()["id"] == first.json()["id"]
    assert Mail.objects.count() == 1 and Entry.objects.filter(owner=p["leo"]).count() == 1


def test_bad_input_sends_nothing(world):
    p = world.p
    unknown = world.send("alice", to=[f"user:{p['bob'].pk}", "user:999999", "nobody"])
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "mail_recipient_unknown"
    assert "user:999999" in unknown.json()["error"]["message"]
    empty = world.send("alice", to=[])
    assert empty.status_code == 400
    assert not Mail.objects.exists() and not Entry.objects.exists()
    # a script in the body is stored and returned as text
    script = "<script>alert(1)</script>"
    sent = world.send("alice", body=script, to=[f"user:{p['bob'].pk}"])
    assert sent.status_code == 201 and sent.json()["body"] == script
    assert sent["Content-Type"].startswith("application/json")
    # refused attachment types
    alice = world.client("alice")
    from django.core.files.uploadedfile import SimpleUploadedFile

    html = SimpleUploadedFile("a.txt", b"<html><script>x</script></html>")
    refused = alice.post("/api/v1/mail/attachments/", {"file": html}, format="multipart")
    assert refused.status_code == 415
    # someone else's file cannot be attached
    other = world.client("charlie").post(
        "/api/v1/mail/attachments/", {"file": text_file()}, format="multipart"
    )
    stolen = world.send("alice", to=[f"user:{p['bob'].pk}"], files=[other.json()["id"]])
    assert stolen.status_code == 400 and Mail.objects.count() == 1
