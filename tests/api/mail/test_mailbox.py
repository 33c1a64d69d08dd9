"""Mailbox filing, drafts, threads, quota, search and the fan-out task (docs/mail.md)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.mail import actions
from api.mail.models import Entry, Mail
from api.mail.tasks import deliver
from api.notify.models import Notification
from tests.api.mail.conftest import text_file
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.django_db, requires_postgres]


def test_quota_refuses_uploads_and_sends_beyond_it(world, settings):
    settings.GOVDESK_MAIL_QUOTA_BYTES = 2000
    alice = world.client("alice")
    first = alice.post(
        "/api/v1/mail/attachments/", {"file": text_file(content="文" * 500)}, format="multipart"
    )
    assert first.status_code == 201  # 1,500 bytes
    assert alice.get("/api/v1/mail/quota/").json() == {"quota_bytes": 2000, "used_bytes": 1500}
    over = alice.post(
        "/api/v1/mail/attachments/", {"file": text_file(content="字" * 200)}, format="multipart"
    )
    assert over.status_code == 413 and over.json()["error"]["code"] == "mail_quota_exceeded"
    long_body = world.send("alice", body="长" * 200, to=[f"user:{world.p['bob'].pk}"])
    assert long_body.status_code == 413 and not Mail.objects.exists()
    sent = world.send(
        "alice", body="短", to=[f"user:{world.p['bob'].pk}"], files=[first.json()["id"]]
    )
    assert sent.status_code == 201
    # trash and purge the sent copy: its body and the file leave alice's quota
    entry = sent.json()["id"]
    assert alice.delete(f"/api/v1/mail/messages/{entry}/").status_code == 409  # not in the trash
    assert (
        alice.post(
            f"/api/v1/mail/messages/{entry}/move/", {"folder": "trash"}, format="json"
        ).status_code
        == 200
    )
    assert alice.delete(f"/api/v1/mail/messages/{entry}/").status_code == 204
    assert alice.get("/api/v1/mail/quota/").json()["used_bytes"] == 0
    # bob still has it, attachment included
    bob = world.client("bob")
    [item] = bob.get("/api/v1/mail/messages/").json()["results"]
    assert bob.get(f"/api/v1/mail/attachments/{first.json()['id']}/").status_code == 200
    assert item["subject"] == "测试"


def test_search_subject_body_and_attachment_text(world):
    p = world.p
    alice = world.client("alice")
    upload = alice.post(
        "/api/v1/mail/attachments/",
        {"file": text_file(content="附件里写着乡村振兴专项资金")},
        format="multipart",
    )
    world.send("alice", subject="防汛工作会议", body="请各单位做好准备", to=[f"user:{p['bob'].pk}"])
    world.send(
        "alice",
        subject="周报",
        body="见附件",
        to=[f"user:{p['bob'].pk}"],
        files=[upload.json()["id"]],
    )
    world.send("alice", subject="秘密", body="防汛", bcc=[f"user:{p['charlie'].pk}"])
    bob = world.client("bob")

    def subjects(client, q):
        response = client.get("/api/v1/mail/messages/", {"q": q})
        assert response.status_code == 200
        return sorted(r["subject"] for r in response.json()["results"])

    assert subjects(bob, "防汛") == ["防汛工作会议"]
    assert subjects(bob, "振兴 资金") == ["周报"]
    assert subjects(bob, "会议 周报") == []
    assert subjects(alice, "防汛") == ["秘密", "防汛工作会议"]
    assert subjects(world.client("charlie"), "工作会议") == []  # not theirs
    assert subjects(world.client("leo"), "防汛") == []


def test_drafts_folders_threads_and_star(world):
    p = world.p
    alice = world.client("alice")
    draft = alice.post(
        "/api/v1/mail/messages/", {"subject": "草稿", "to": [f"user:{p['bob'].pk}"]}, format="json"
    )
    assert draft.status_code == 201, draft.content
    draft_id = draft.json()["id"]
    assert [
        d["id"] for d in alice.get("/api/v1/mail/messages/", {"folder": "drafts"}).json()["results"]
    ] == [draft_id]
    assert not Entry.objects.filter(owner=p["bob"]).exists()  # a draft reaches nobody
    sent = alice.post(
        "/api/v1/mail/send/",
        {"draft": draft_id, "subject": "定稿", "to": [f"user:{p['bob'].pk}"]},
        format="json",
    )
    assert (
        sent.status_code == 201 and sent.json()["id"] == draft_id and sent.json()["box"] == "sent"
    )
    bob = world.client("bob")
    [item] = bob.get("/api/v1/mail/messages/").json()["results"]
    reply = bob.post(
        "/api/v1/mail/send/",
        {"subject": "回复：定稿", "to": [f"user:{p['alice'].pk}"], "in_reply_to": item["id"]},
        format="json",
    )
    assert reply.status_code == 201
    assert reply.json()["thread_id"] == item["mail_id"]
    thread = alice.get(f"/api/v1/mail/threads/{item['mail_id']}/").json()["results"]
    assert len(thread) == 2
    folder = bob.post("/api/v1/mail/folders/", {"name": "会议"}, format="json").json()
    assert (
        bob.post(
            f"/api/v1/mail/messages/{item['id']}/move/",
            {"folder": str(folder["id"])},
            format="json",
        ).status_code
        == 200
    )
    assert bob.get("/api/v1/mail/messages/").json()["results"] == []
    assert [
        r["id"]
        for r in bob.get("/api/v1/mail/messages/", {"folder": str(folder["id"])}).json()["results"]
    ] == [item["id"]]
    assert bob.post(
        f"/api/v1/mail/messages/{item['id']}/star/", {"starred": True}, format="json"
    ).json()["starred"]
    assert len(bob.get("/api/v1/mail/messages/", {"folder": "starred"}).json()["results"]) == 1
    # another person's entry, a folder that is not yours
    assert world.client("charlie").get(f"/api/v1/mail/messages/{item['id']}/").status_code == 404
    assert (
        world.client("charlie")
        .get("/api/v1/mail/messages/", {"folder": str(folder["id"])})
        .status_code
        == 400
    )


def test_large_send_fans_out_in_the_task_once(world, settings, django_capture_on_commit_callbacks):
    settings.GOVDESK_MAIL_INLINE_FANOUT = 2
    with django_capture_on_commit_callbacks() as callbacks:
        sent = world.send("alice", to=[f"unit:{world.org.office.pk}:all"])
    assert sent.status_code == 201
    assert len(callbacks) == 1
    mail = Mail.objects.get()
    assert not mail.fanout_done and not Entry.objects.exclude(role="from").exists()
    # a recall while delivering waits for the fan-out
    recall = world.client("alice").post(f"/api/v1/mail/messages/{sent.json()['id']}/recall/")
    assert recall.status_code == 409 and recall.json()["error"]["code"] == "mail_delivering"
    assert deliver.apply(args=[mail.pk]).get() == 5
    assert deliver.apply(args=[mail.pk]).get() == 0  # twice: nothing more
    mail.refresh_from_db()
    assert mail.fanout_done
    assert Entry.objects.filter(mail=mail).exclude(role="from").count() == 5
    # even with the flag lost, a re-run creates no second entry or notification
    Mail.objects.filter(pk=mail.pk).update(fanout_done=False)
    assert actions.deliver(mail.pk) == 0
    assert Entry.objects.filter(mail=mail).exclude(role="from").count() == 5
    assert Notification.objects.filter(dedup_key=f"mail:{mail.pk}").count() == 5


def test_inbox_and_receipts_query_count_does_not_grow(world, django_assert_max_num_queries):
    p = world.p
    bob, alice = world.client("bob"), world.client("alice")
    for i in range(3):
        world.send("alice", subject=f"第{i}封", to=[f"user:{p['bob'].pk}", f"user:{p['leo'].pk}"])
    entry = Entry.objects.filter(role="from", owner=p["alice"]).first()
    connection.queries_log.clear()  # a full log (maxlen) would capture nothing
    with CaptureQueriesContext(connection) as inbox_few:
        assert len(bob.get("/api/v1/mail/messages/").json()["results"]) == 3
    inbox_queries = len(inbox_few)
    with CaptureQueriesContext(connection) as receipts_few:
        assert len(alice.get(f"/api/v1/mail/messages/{entry.pk}/receipts/").json()["results"]) == 2
    receipts_queries = len(receipts_few)
    for i in range(12):
        world.send("leo", subject=f"更多{i}", to=[f"user:{p['bob'].pk}"])
    connection.queries_log.clear()
    big = world.send("alice", to=[f"unit:{world.org.office.pk}:all"]).json()["id"]
    assert inbox_queries >= 1
    connection.queries_log.clear()
    with django_assert_max_num_queries(inbox_queries):
        assert len(bob.get("/api/v1/mail/messages/").json()["results"]) == 16
    with django_assert_max_num_queries(receipts_queries):
        assert len(alice.get(f"/api/v1/mail/messages/{big}/receipts/").json()["results"]) == 5


def test_search_finds_words_inside_a_docx_attachment(world):
    import io
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(
            "word/document.xml",
            "<w:document><w:body><w:p><w:r><w:t>关于开展安全生产大检查的通知</w:t></w:r></w:p>"
            "</w:body></w:document>",
        )
    alice = world.client("alice")
    upload = alice.post(
        "/api/v1/mail/attachments/",
        {"file": SimpleUploadedFile("通知.docx", buffer.getvalue())},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    world.send(
        "alice", subject="附件", to=[f"user:{world.p['bob'].pk}"], files=[upload.json()["id"]]
    )
    found = world.client("bob").get("/api/v1/mail/messages/", {"q": "安全生产"}).json()["results"]
    assert [r["subject"] for r in found] == ["附件"]
