"""Must-read notices (必读): receipts per person, progress by unit, the reminder to
those who have not read by the deadline. Docs: docs/publishing.md#must-read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.notify.models import Notification
from api.publishing.actions.reading import due_for_reminder, remind_unread
from api.publishing.models import Post, ReadReceipt
from api.publishing.tasks import remind_must_reads
from tests.api.publishing.conftest import publish
from tests.conftest import requires_postgres
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_receipts_and_progress(world, org):
    post_id = publish(
        world, {"kind": "units", "unit_ids": [org.bureau.pk, org.district.pk]}, must_read=True
    )
    readers = {
        world.reader.pk,
        world.bureau_dept_reader.pk,
        world.district_reader.pk,
        world.leader.pk,
    }
    assert (
        set(ReadReceipt.objects.filter(post_id=post_id).values_list("user_id", flat=True))
        >= readers
    )
    total = ReadReceipt.objects.filter(post_id=post_id).count()
    reader = client_for(world.reader)
    home = reader.get("/api/v1/posts/?unread=true").json()["results"]
    assert [p["id"] for p in home] == [post_id]
    first = reader.post(f"/api/v1/posts/{post_id}/read/", {}, format="json")
    assert first.status_code == 200
    again = reader.post(f"/api/v1/posts/{post_id}/read/", {}, format="json")
    assert again.json()["read_at"] == first.json()["read_at"]
    assert reader.get("/api/v1/posts/?unread=true").json()["results"] == []
    progress = client_for(world.publisher).get(f"/api/v1/posts/{post_id}/readers/").json()
    assert (progress["read"], progress["unread"], progress["total"]) == (1, total - 1, total)
    bureau = next(u for u in progress["by_unit"] if u["unit"]["id"] == org.bureau.pk)
    assert bureau["read"] == 1
    unread = (
        client_for(world.publisher)
        .get(f"/api/v1/posts/{post_id}/readers/?state=unread")
        .json()["results"]
    )
    assert world.reader.pk not in [r["id"] for r in unread]
    assert world.district_reader.pk in [r["id"] for r in unread]
    # Readers of the audience cannot see the progress; outsiders cannot even see the post.
    assert reader.get(f"/api/v1/posts/{post_id}/readers/").status_code == 403
    assert (
        client_for(world.township_reader)
        .post(f"/api/v1/posts/{post_id}/read/", {}, format="json")
        .status_code
        == 404
    )


@requires_postgres
def test_reminder_reaches_only_non_readers_once(world, org):
    deadline = timezone.now() + timedelta(hours=1)
    post_id = publish(
        world,
        {"kind": "units", "unit_ids": [org.bureau.pk, org.district.pk]},
        must_read=True,
        read_deadline=deadline.isoformat(),
    )
    client_for(world.reader).post(f"/api/v1/posts/{post_id}/read/", {}, format="json")
    assert due_for_reminder() == []  # not due yet
    later = deadline + timedelta(minutes=1)
    assert due_for_reminder(later) == [post_id]
    sent = remind_unread(post_id, now=later)
    unread = set(
        ReadReceipt.objects.filter(post_id=post_id, read_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    reminded = set(
        Notification.objects.filter(dedup_key=f"post-must-read:{post_id}").values_list(
            "recipient_id", flat=True
        )
    )
    assert sent == len(unread) > 0
    assert reminded == unread
    assert world.reader.pk not in reminded
    note = Notification.objects.filter(recipient=world.district_reader).get()
    assert note.urgency == "high" and note.sms_due_at is not None  # the ladder's SMS rung
    # A second run (or the beat task) sends nothing more.
    assert remind_unread(post_id, now=later) == 0
    assert remind_must_reads() == 0
    assert Post.objects.get(pk=post_id).reminded_at is not None
