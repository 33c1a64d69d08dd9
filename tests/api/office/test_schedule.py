"""Schedule (docs/personal-office.md): a secretary keeps a leader's schedule, colleagues
see busy/free without titles, recurring events (RRULE) expand and survive the
iCalendar feed, free/busy, schedule sources, reminders through the notify ladder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from api.notify.models import Notification
from api.office import actions
from api.office.models import Event
from tests.conftest import requires_postgres
from tests.personas import Role, client_for, make_user

pytestmark = [pytest.mark.django_db, requires_postgres]


def _at(days: int, hour: int):
    base = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days, hours=hour)


@pytest.fixture
def office(org, personas):
    people = dict(personas)
    people["lena"] = make_user("lena", org.office, Role.LEADER, display_name="副市长")
    people["sec"] = make_user("sec", org.office, Role.STAFF, display_name="秘书")
    actions.grant_access(people["lena"], people["sec"].pk, "keep")
    return people


def test_secretary_keeps_the_leaders_schedule_colleagues_see_busy_only(office):
    lena, sec = office["lena"], office["sec"]
    start, end = _at(1, 9), _at(1, 11)
    created = client_for(sec).post(
        "/api/v1/calendar/events/",
        {
            "owner": lena.pk,
            "title": "市政府常务会议",
            "place": "第一会议室",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "attendees": [office["bob"].pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["owner"]["id"] == lena.pk and created.json()["created_by"]["id"] == sec.pk
    window = {"user": lena.pk, "start": _at(0, 0).isoformat(), "end": _at(3, 0).isoformat()}
    # the leader sees it in full, with who kept it
    own = client_for(lena).get("/api/v1/calendar/events/", window).json()
    assert own["access"] == "own"
    [item] = own["results"]
    assert item["title"] == "市政府常务会议" and item["kept_by"]["id"] == sec.pk
    # a colleague of the same body (leo) sees busy, no title, no place
    busy = client_for(office["leo"]).get("/api/v1/calendar/events/", window)
    assert busy.status_code == 200
    [block] = busy.json()["results"]
    assert busy.json()["access"] == "busy"
    assert (
        block["busy"] and block["title"] == "" and block["place"] == "" and block["attendees"] == []
    )
    assert "常务会议" not in busy.content.decode()
    # the attendee sees it in their own schedule
    bob_view = client_for(office["bob"]).get(
        "/api/v1/calendar/events/", {**window, "user": office["bob"].pk}
    )
    assert [i["title"] for i in bob_view.json()["results"]] == ["市政府常务会议"]
    # someone of another unit: 404 (and cannot add to it)
    charlie = client_for(office["charlie"])
    assert charlie.get("/api/v1/calendar/events/", window).status_code == 404
    denied = charlie.post(
        "/api/v1/calendar/events/",
        {"owner": lena.pk, "title": "x", "start": start.isoformat(), "end": end.isoformat()},
        format="json",
    )
    assert denied.status_code == 404
    # leo only sees busy: he may not add to it nor read the event
    leo = client_for(office["leo"])
    assert (
        leo.post(
            "/api/v1/calendar/events/",
            {"owner": lena.pk, "title": "x", "start": start.isoformat(), "end": end.isoformat()},
            format="json",
        ).status_code
        == 404
    )
    assert leo.get(f"/api/v1/calendar/events/{created.json()['id']}/").status_code == 404
    # the leader lets leo see it in full
    client_for(lena).post(
        "/api/v1/calendar/access/", {"grantee": office["leo"].pk, "level": "full"}, format="json"
    )
    assert (
        leo.get("/api/v1/calendar/events/", window).json()["results"][0]["title"]
        == "市政府常务会议"
    )
    # free/busy for the picker
    fb = leo.get(
        "/api/v1/calendar/freebusy/",
        {
            "users": f"{lena.pk},{office['charlie'].pk}",
            "start": _at(0, 0).isoformat(),
            "end": _at(3, 0).isoformat(),
        },
    ).json()
    assert fb[0]["visible"] and len(fb[0]["busy"]) == 1
    assert fb[1] == {
        "user": {"id": office["charlie"].pk, "display_name": "charlie"},
        "visible": False,
        "busy": [],
    }


def test_recurring_event_expands_and_feed_keeps_the_rrule(office):
    lena = office["lena"]
    client = client_for(lena)
    monday = _at(-timezone.localtime().weekday() + 7, 9)  # next Monday 09:00
    created = client.post(
        "/api/v1/calendar/events/",
        {
            "title": "周例会",
            "start": monday.isoformat(),
            "end": (monday + timedelta(hours=1)).isoformat(),
            "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    event = Event.objects.get()
    assert event.series_end == monday + timedelta(weeks=3, hours=1)
    window = {"start": monday.isoformat(), "end": (monday + timedelta(days=60)).isoformat()}
    items = client.get("/api/v1/calendar/events/", window).json()["results"]
    assert [
        timezone.localtime(timezone.datetime.fromisoformat(i["start"])).date() for i in items
    ] == [(monday + timedelta(weeks=n)).date() for n in range(4)]
    bad = client.post(
        "/api/v1/calendar/events/",
        {
            "title": "x",
            "start": monday.isoformat(),
            "end": monday.isoformat(),
            "rrule": "FREQ=SECONDLY",
        },
        format="json",
    )
    assert bad.status_code == 400 and "rrule" in bad.json()["error"]["fields"]
    # the feed
    issued = client.post("/api/v1/calendar/feed/")
    assert issued.status_code == 201
    url = issued.json()["url"]
    anonymous = client_for(None)
    feed = anonymous.get(url.split("testserver")[-1])
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["summary"]) == "周例会"
    assert vevent["rrule"].to_ical() == b"FREQ=WEEKLY;COUNT=4;BYDAY=MO"
    # revoked: the old URL stops working; a new one works
    assert client.delete("/api/v1/calendar/feed/").status_code == 204
    assert anonymous.get(url.split("testserver")[-1]).status_code == 404
    assert anonymous.get("/api/v1/calendar/feed/" + "x" * 43 + ".ics").status_code == 404


def test_reminders_and_deadline_source(office, settings):
    lena = office["lena"]
    now = timezone.now()
    actions.create_event(
        lena,
        lena,
        actions.EventData(
            title="接待来访",
            start=now + timedelta(minutes=10),
            end=now + timedelta(minutes=40),
            remind_minutes=15,
            attendees=[office["bob"].pk],
        ),
    )
    assert actions.send_reminders() == 2
    assert actions.send_reminders() == 0  # twice: once
    assert Notification.objects.filter(title__startswith="日程提醒").count() == 2
    note = actions.save_note(lena, "记得", "给秘书回电话", now - timedelta(minutes=1))
    assert actions.send_reminders() == 1
    note.refresh_from_db()
    assert note.reminded_at is not None
    # a schedule source: its entries are merged; a broken one is skipped
    settings.GOVDESK_SCHEDULE_SOURCES = [
        "tests.api.office.test_schedule.fake_meetings",
        "no.such.module",
    ]
    items = client_for(lena).get("/api/v1/calendar/events/").json()["results"]
    assert "全市视频会议" in [i["title"] for i in items]
    leo_items = (
        client_for(office["leo"])
        .get("/api/v1/calendar/events/", {"user": lena.pk})
        .json()["results"]
    )
    assert all(i["title"] == "" for i in leo_items) and len(leo_items) == 2


def fake_meetings(user, start, end):
    at = timezone.now() + timedelta(days=1)
    return [
        {
            "source": "meeting",
            "source_id": "7",
            "title": "全市视频会议",
            "start": at,
            "end": at + timedelta(hours=1),
            "place": "视频",
            "url": "/meetings/7",
            "busy": True,
        }
    ]


def test_a_window_outside_the_platforms_years_is_a_clear_400(office):
    """Year 83 parsed fine but came back with Shanghai's local mean time (+08:05:43),
    which is no ISO 8601 offset (found by schemathesis)."""
    client = client_for(office["leo"])
    for start in ("0083-11-18T00:39:31Z", "2200-01-01T00:00:00+08:00"):
        response = client.get("/api/v1/calendar/events/", {"start": start})
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "validation_error"
    assert (
        client.get("/api/v1/calendar/events/", {"start": "2026-12-07T00:00:00+08:00"}).status_code
        == 200
    )
