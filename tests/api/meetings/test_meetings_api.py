"""The meetings API without a media server: scheduling, notices, who sees what,
changes and cancellation, on-site sign-in, materials, minutes, the schedule source,
and attendance from Janus's event posts. Docs: docs/meetings.md."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.audit.models import AuditEvent
from api.documents.models import Document
from api.meetings.models import Attendance, Meeting, Participant
from api.meetings.selectors import schedule_entries
from api.notify.models import Notification
from tests.personas import client_for

MEETINGS = "/api/v1/meetings/"
pytestmark = pytest.mark.django_db


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


def schedule(user, **fields) -> dict:
    body = {
        "title": "防汛工作调度会",
        "starts_at": iso(timedelta(minutes=10)),
        "ends_at": iso(timedelta(hours=1)),
        "place": "三楼第一会议室",
        "agenda": "一、汛情通报\n二、部署工作",
        **fields,
    }
    response = client_for(user).post(MEETINGS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_schedule_invites_and_notifies_people_and_units(org, personas):
    alice, leo, charlie, dana = (personas[k] for k in ("alice", "leo", "charlie", "dana"))
    meeting = schedule(alice, user_ids=[leo.pk, charlie.pk], unit_ids=[org.district.pk])
    people = {p["user"]["id"]: p["role"] for p in meeting["participants"]}
    assert people == {alice.pk: "host", leo.pk: "attendee", charlie.pk: "attendee"}
    assert meeting["signin_code"] and len(meeting["signin_code"]) == 6  # the host sees it
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert titles[leo.pk] == "会议通知：防汛工作调度会"
    assert charlie.pk in titles and alice.pk in titles
    assert titles[dana.pk].startswith("请确定参会人")  # the district's admin names attendees
    assert AuditEvent.objects.filter(action="meeting.scheduled").count() == 1
    # The invitee sees it without the code; the room's secret and pin are never shown.
    seen = client_for(leo).get(f"{MEETINGS}{meeting['id']}/").json()
    assert seen["signin_code"] is None
    assert "room_secret" not in seen and "room_pin" not in seen and "janus_room" not in seen


def test_someone_not_invited_gets_404_and_the_attempt_is_recorded(personas):
    meeting = schedule(personas["alice"], user_ids=[personas["leo"].pk])
    bob = client_for(personas["charlie"])
    assert bob.get(f"{MEETINGS}{meeting['id']}/").status_code == 404
    assert bob.post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").status_code == 404
    assert bob.get(f"{MEETINGS}{meeting['id']}/attendance/").status_code == 404
    assert bob.get(MEETINGS).json()["results"] == []
    assert AuditEvent.objects.filter(action="meeting.join", result="denied").exists()


def test_a_unit_names_its_attendee_who_is_then_invited(org, personas):
    from tests.personas import Role, make_user

    eve = make_user("eve", org.district, Role.STAFF)
    meeting = schedule(personas["alice"], unit_ids=[org.district.pk])
    path = f"{MEETINGS}{meeting['id']}/attendees/"
    body = {"unit_id": org.district.pk, "user_ids": [eve.pk]}
    assert client_for(personas["leo"]).post(path, body, format="json").status_code == 404
    assert client_for(personas["dana"]).post(path, body, format="json").status_code == 200
    assert (
        Participant.objects.get(meeting_id=meeting["id"], user=eve).via_unit_id == org.district.pk
    )
    assert Notification.objects.filter(recipient=eve, title__startswith="会议通知").exists()
    # Not of the unit: refused.
    body = {"unit_id": org.district.pk, "user_ids": [personas["charlie"].pk]}
    assert client_for(personas["dana"]).post(path, body, format="json").status_code == 400


def test_changes_and_cancellation_are_notified(personas):
    alice, leo, charlie = personas["alice"], personas["leo"], personas["charlie"]
    meeting = schedule(alice, user_ids=[leo.pk, charlie.pk])
    path = f"{MEETINGS}{meeting['id']}/"
    later = {"starts_at": iso(timedelta(hours=2)), "ends_at": iso(timedelta(hours=3))}
    assert client_for(leo).patch(path, later, format="json").status_code == 403
    changed = client_for(alice).patch(
        path, {**later, "remove_user_ids": [charlie.pk]}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert Notification.objects.filter(recipient=leo, title="会议变更：防汛工作调度会").exists()
    assert Notification.objects.filter(recipient=charlie, title__startswith="您已不在").exists()
    assert client_for(charlie).get(path).status_code == 404
    bad = client_for(alice).patch(path, {"ends_at": iso(timedelta(hours=1))}, format="json")
    assert bad.status_code == 400  # ends before it starts: nothing half-written
    assert Meeting.objects.get(pk=meeting["id"]).revision == 2
    cancelled = client_for(alice).post(path + "cancel/", {"reason": "改期"}, format="json")
    assert cancelled.json()["state"] == "cancelled"
    assert Notification.objects.filter(recipient=leo, title="会议取消：防汛工作调度会").exists()
    assert client_for(alice).post(path + "end/", {}, format="json").status_code == 409


def test_on_site_sign_in_with_the_code(personas):
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, user_ids=[leo.pk])
    path = f"{MEETINGS}{meeting['id']}/signin/"
    wrong = client_for(leo).post(path, {"code": "000000x"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "signin_code_wrong"
    done = client_for(leo).post(path, {"code": meeting["signin_code"]}, format="json")
    assert done.status_code == 200 and done.json()["signin_method"] == "code"
    rows = client_for(alice).get(f"{MEETINGS}{meeting['id']}/attendance/").json()["rows"]
    leo_row = next(r for r in rows if r["user_id"] == leo.pk)
    assert leo_row["present"] and leo_row["signin_method"] == "code"


def test_join_without_janus_says_video_needs_janus(personas, settings):
    settings.GOVDESK_JANUS_API_URL = ""
    meeting = schedule(personas["alice"], user_ids=[personas["leo"].pk])
    answer = client_for(personas["leo"]).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "video_unavailable"
    assert "Janus" in answer.json()["error"]["message"]


def test_materials_are_content_checked_and_downloadable(personas):
    alice, leo, charlie = personas["alice"], personas["leo"], personas["charlie"]
    meeting = schedule(alice, user_ids=[leo.pk])
    path = f"{MEETINGS}{meeting['id']}/materials/"
    pdf = io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    pdf.name = "议程.pdf"
    added = client_for(alice).post(path, {"file": pdf}, format="multipart")
    assert added.status_code == 201, added.json()
    fake = io.BytesIO(b"MZ\x90\x00 not a pdf at all")
    fake.name = "材料.pdf"
    refused = client_for(alice).post(path, {"file": fake}, format="multipart")
    assert refused.status_code == 415
    got = client_for(leo).get(f"{path}{added.json()['id']}/")
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
    assert client_for(charlie).get(f"{path}{added.json()['id']}/").status_code == 404
    assert client_for(leo).post(path, {"file": pdf}, format="multipart").status_code == 403


def test_minutes_are_a_minutes_draft_linked_to_the_meeting(personas):
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, user_ids=[leo.pk])
    client_for(leo).post(
        f"{MEETINGS}{meeting['id']}/signin/", {"code": meeting["signin_code"]}, format="json"
    )
    path = f"{MEETINGS}{meeting['id']}/minutes/"
    assert client_for(leo).post(path, {}, format="json").status_code == 403
    drafted = client_for(alice).post(path, {}, format="json").json()
    assert drafted["doc_type"] == "minutes" and drafted["status"] == "draft"
    document = Document.objects.get(pk=drafted["document_id"])
    assert document.title == "防汛工作调度会纪要"
    texts = [p["text"] for p in document.body]
    assert "出席：leo" in texts and "缺席：alice" in texts and "一、汛情通报" in texts
    again = client_for(alice).post(path, {}, format="json").json()
    assert again["document_id"] == drafted["document_id"]  # one linked draft
    assert client_for(leo).get(path).json()["document_id"] == document.pk


def test_schedule_entries_for_the_personal_office(personas):
    alice, leo, charlie = personas["alice"], personas["leo"], personas["charlie"]
    meeting = schedule(alice, user_ids=[leo.pk])
    now = timezone.now()
    entries = schedule_entries(leo, now, now + timedelta(days=1))
    assert [(e["source"], e["source_id"], e["busy"]) for e in entries] == [
        ("meetings", str(meeting["id"]), True)
    ]
    assert set(entries[0]) == {
        "source",
        "source_id",
        "title",
        "start",
        "end",
        "place",
        "url",
        "busy",
    }
    assert schedule_entries(charlie, now, now + timedelta(days=1)) == []
    assert schedule_entries(leo, now + timedelta(days=2), now + timedelta(days=3)) == []


def test_janus_events_make_the_attendance_record(personas, settings):
    settings.GOVDESK_JANUS_EVENT_PASSWORD = "event-secret"
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, user_ids=[leo.pk])
    row = Meeting.objects.get(pk=meeting["id"])
    Participant.objects.filter(meeting=row, user=leo).update(janus_token="m-tok-leo")
    start = int(timezone.now().timestamp() * 1_000_000)
    joined = {
        "type": 64,
        "timestamp": start,
        "session_id": 11,
        "handle_id": 22,
        "event": {
            "plugin": "janus.plugin.videoroom",
            "data": {"event": "joined", "room": row.janus_room, "id": 5, "token": "m-tok-leo",
                     "display": "anyone"},
        },
    }  # fmt: skip
    left = {"type": 2, "timestamp": start + 90_000_000, "session_id": 11, "handle_id": 22,
            "event": {"name": "detached", "plugin": "janus.plugin.videoroom"}}  # fmt: skip
    url = f"{MEETINGS}janus-events/"
    anon = client_for(None)
    assert anon.post(url, [joined], format="json").status_code == 401
    auth = "Basic " + base64.b64encode(b"janus:event-secret").decode()
    for _ in range(2):  # a re-sent batch counts once
        response = anon.post(url, [joined, left], format="json", HTTP_AUTHORIZATION=auth)
        assert response.status_code == 200
    assert Attendance.objects.count() == 1
    assert AuditEvent.objects.filter(action="meeting.room_joined").count() == 1
    left = AuditEvent.objects.get(action="meeting.room_left")
    assert left.detail["seconds"] == 90 and left.detail["why"] == "detached"
    rows = client_for(alice).get(f"{MEETINGS}{meeting['id']}/attendance/").json()["rows"]
    leo_row = next(r for r in rows if r["user_id"] == leo.pk)
    assert leo_row["seconds_in_room"] == 90 and leo_row["signin_method"] == "room"
    # A token of no meeting, or another room: ignored.
    joined["event"]["data"]["token"] = "forged"
    anon.post(url, [joined], format="json", HTTP_AUTHORIZATION=auth)
    assert Attendance.objects.count() == 1


@pytest.mark.parametrize("one_batch", [True, False], ids=["same-batch", "later-batch"])
def test_a_join_reported_after_its_end_is_closed_at_that_end(personas, settings, one_batch):
    """The VideoRoom posts ``joined`` from its own thread: on a busy Janus it can come
    after the session's ``destroyed``. The stay must still close, at the end's time."""
    settings.GOVDESK_JANUS_EVENT_PASSWORD = "event-secret"
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, user_ids=[leo.pk])
    row = Meeting.objects.get(pk=meeting["id"])
    Participant.objects.filter(meeting=row, user=leo).update(janus_token="m-tok-late")
    start = int(timezone.now().timestamp() * 1_000_000)
    session, handle = 7_000 + one_batch, 8_000 + one_batch
    joined = {"type": 64, "timestamp": start, "session_id": session, "handle_id": handle,
              "event": {"plugin": "janus.plugin.videoroom",
                        "data": {"event": "joined", "room": row.janus_room, "id": 6,
                                 "token": "m-tok-late"}}}  # fmt: skip
    destroyed = {"type": 1, "timestamp": start + 30_000_000, "session_id": session,
                 "event": {"name": "destroyed"}}  # fmt: skip
    url = f"{MEETINGS}janus-events/"
    auth = "Basic " + base64.b64encode(b"janus:event-secret").decode()
    anon = client_for(None)
    batches = [[destroyed, joined]] if one_batch else [[destroyed], [joined]]
    for batch in batches:
        assert anon.post(url, batch, format="json", HTTP_AUTHORIZATION=auth).status_code == 200
    stay = Attendance.objects.get(meeting=row)
    assert stay.left_at is not None
    assert int((stay.left_at - stay.joined_at).total_seconds()) == 30


def test_list_and_attendance_query_counts_do_not_grow(personas, django_assert_max_num_queries):
    alice, leo = personas["alice"], personas["leo"]
    first = schedule(alice, user_ids=[leo.pk])
    client = client_for(alice)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(MEETINGS).status_code == 200
    budget = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"{MEETINGS}{first['id']}/attendance/").status_code == 200
    attendance_budget = len(ctx.captured_queries)
    others = [personas[k].pk for k in ("bob", "charlie", "dana", "ivy", "sam")]
    for _ in range(5):
        schedule(alice, user_ids=[leo.pk, *others])
    client.patch(f"{MEETINGS}{first['id']}/", {"add_user_ids": others}, format="json")
    with django_assert_max_num_queries(budget):
        assert len(client.get(MEETINGS).json()["results"]) == 6
    with django_assert_max_num_queries(attendance_budget):
        rows = client.get(f"{MEETINGS}{first['id']}/attendance/").json()["rows"]
    assert len(rows) == 7


def test_the_reminder_before_the_start_goes_once(personas):
    from api.meetings.actions import remind_upcoming

    alice, leo = personas["alice"], personas["leo"]
    schedule(alice, user_ids=[leo.pk])  # starts in 10 minutes
    schedule(
        alice, user_ids=[leo.pk], starts_at=iso(timedelta(hours=3)), ends_at=iso(timedelta(hours=4))
    )
    assert remind_upcoming() == 2  # alice (host) and leo, for the first meeting only
    assert remind_upcoming() == 0
    assert Notification.objects.filter(recipient=leo, title__startswith="会议即将开始").count() == 1
