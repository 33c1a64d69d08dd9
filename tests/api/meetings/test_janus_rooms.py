"""Rooms and tokens on a real Janus (Debian's, started on loopback by the test):
only invited people enter, and Janus itself refuses everyone else; the end removes
the room and every token; Janus's own events make the attendance record.

Docs: docs/meetings.md#rooms-on-janus. Skipped with the reason when janus is absent.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from api.meetings.janus.client import VIDEOROOM, JanusError, _post
from api.meetings.models import Attendance
from tests.api.meetings.janus_server import requires_janus, start_janus
from tests.personas import client_for

pytestmark = [pytest.mark.slow, requires_janus, pytest.mark.django_db(transaction=True)]
MEETINGS = "/api/v1/meetings/"


class Capture(BaseHTTPRequestHandler):
    """Stands where GovDesk's event endpoint is, to hand Janus's real posts to it."""

    batches: list[tuple[str, list]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        data = json.loads(body)
        self.batches.append(
            (self.headers.get("Authorization", ""), data if isinstance(data, list) else [data])
        )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def capture():
    Capture.batches = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def janus(tmp_path, capture, settings):
    running = start_janus(tmp_path, event_url=f"http://127.0.0.1:{capture.server_port}/")
    for key, value in running.settings().items():
        setattr(settings, key, value)
    yield running
    running.stop()


def schedule(user, invited) -> dict:
    body = {
        "title": "视频调度会",
        "starts_at": (timezone.now() + timedelta(minutes=5)).isoformat(),
        "ends_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        "user_ids": [u.pk for u in invited],
    }
    response = client_for(user).post(MEETINGS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def enter(api_url: str, token: str, room: int, pin: str) -> dict:
    """What janus.js does: a session, a VideoRoom handle, a join as publisher."""
    session = _post(api_url, {"janus": "create", "token": token})["data"]["id"]
    handle = _post(f"{api_url}/{session}", {"janus": "attach", "plugin": VIDEOROOM, "token": token})
    url = f"{api_url}/{session}/{handle['data']['id']}"
    body = {
        "request": "join",
        "ptype": "publisher",
        "room": room,
        "pin": pin,
        "token": token,
        "display": "x",
    }
    _post(url, {"janus": "message", "token": token, "body": body})
    # The answer to join is asynchronous: read the event from the session's long poll.
    import urllib.request

    with urllib.request.urlopen(f"{api_url}/{session}?maxev=1&token={token}", timeout=10) as r:
        event = json.loads(r.read())
    return {"session": session, "handle": handle["data"]["id"], "event": event}


def test_only_invited_people_enter_and_janus_refuses_the_rest(personas, janus):
    alice, leo, charlie = personas["alice"], personas["leo"], personas["charlie"]
    meeting = schedule(alice, [leo])
    other = schedule(charlie, [])  # charlie is invited to his own meeting only
    api_url = janus.config.api_url()

    ticket = client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json")
    assert ticket.status_code == 200, ticket.json()
    ticket = ticket.json()
    assert ticket["server"][0].startswith("ws://127.0.0.1:")
    assert janus.config.admin_secret not in json.dumps(ticket)
    entered = enter(api_url, ticket["token"], ticket["room"], ticket["pin"])
    assert entered["event"]["plugindata"]["data"]["videoroom"] == "joined"

    # Charlie is not invited: the API says 404 ...
    assert (
        client_for(charlie).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").status_code
        == 404
    )
    # ... and Janus itself refuses him: without a token no session at all,
    with pytest.raises(JanusError) as refused:
        _post(api_url, {"janus": "create"})
    assert refused.value.code == 403
    with pytest.raises(JanusError) as refused:
        _post(api_url, {"janus": "create", "token": "guessed"})
    assert refused.value.code == 403
    # and with a real token of his own meeting plus this room's pin, the VideoRoom's
    # access list refuses him (JANUS_VIDEOROOM_ERROR_UNAUTHORIZED).
    own = client_for(charlie).post(f"{MEETINGS}{other['id']}/join/", {}, format="json").json()
    sneaked = enter(api_url, own["token"], ticket["room"], ticket["pin"])
    data = sneaked["event"]["plugindata"]["data"]
    assert data.get("error_code") == 433, data

    # The host ends the meeting: the room is destroyed and leo's token is gone.
    ended = client_for(alice).post(f"{MEETINGS}{meeting['id']}/end/", {}, format="json")
    assert ended.status_code == 200
    assert ticket["token"] not in janus.client.tokens()
    with pytest.raises(JanusError) as refused:
        _post(api_url, {"janus": "create", "token": ticket["token"]})
    assert refused.value.code == 403
    again = client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "meeting_ended"


def test_janus_events_record_who_joined(personas, janus, capture):
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, [leo])
    ticket = client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").json()
    entered = enter(janus.config.api_url(), ticket["token"], ticket["room"], ticket["pin"])
    _post(
        f"{janus.config.api_url()}/{entered['session']}",
        {"janus": "destroy", "token": ticket["token"]},
    )

    # Only leo's own session counts: GovDesk's room client opens and destroys sessions
    # of its own, whose "destroyed" may be posted before leo's is.
    def seen(name: str) -> bool:
        return any(
            e.get("session_id") == entered["session"]
            and (
                e.get("event", {}).get("name") == name
                or e.get("event", {}).get("data", {}).get("event") == name
            )
            for _, batch in Capture.batches
            for e in batch
        )

    from tests.deploy.helpers import wait_until

    wait_until(lambda: seen("joined") and seen("destroyed"), 15, "Janus posts joined, destroyed")
    auth = "Basic " + base64.b64encode(f"janus:{janus.config.event_password}".encode()).decode()
    assert all(header == auth for header, _ in Capture.batches)
    events = [e for _, batch in Capture.batches for e in batch]
    response = client_for(None).post(
        f"{MEETINGS}janus-events/", events, format="json", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 200
    stay = Attendance.objects.get(meeting_id=meeting["id"])
    assert stay.participant.user_id == leo.pk and stay.left_at is not None
    rows = client_for(alice).get(f"{MEETINGS}{meeting['id']}/attendance/").json()["rows"]
    assert next(r for r in rows if r["user_id"] == leo.pk)["signin_method"] == "room"


def test_a_removed_participant_loses_the_token_at_once(personas, janus):
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, [leo])
    ticket = client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").json()
    enter(janus.config.api_url(), ticket["token"], ticket["room"], ticket["pin"])
    path = f"{MEETINGS}{meeting['id']}/participants/{ticket['participant_id']}/remove/"
    assert client_for(leo).post(path, {}, format="json").status_code == 403
    assert client_for(alice).post(path, {}, format="json").status_code == 200
    assert ticket["token"] not in janus.client.tokens()
    with pytest.raises(JanusError) as refused:
        _post(janus.config.api_url(), {"janus": "create", "token": ticket["token"]})
    assert refused.value.code == 403
    assert (
        client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").status_code
        == 404
    )


def test_a_locked_room_admits_no_one_new(personas, janus):
    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, [leo])
    assert (
        client_for(alice).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").status_code
        == 200
    )
    locked = client_for(alice).post(
        f"{MEETINGS}{meeting['id']}/lock/", {"locked": True}, format="json"
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True
    refused = client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "meeting_locked"
    client_for(alice).post(f"{MEETINGS}{meeting['id']}/lock/", {"locked": False}, format="json")
    assert (
        client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").status_code
        == 200
    )


def test_the_sweep_closes_rooms_of_meetings_past_their_window(personas, janus):
    from api.meetings.actions import sweep_rooms
    from api.meetings.models import Meeting, Participant

    alice, leo = personas["alice"], personas["leo"]
    meeting = schedule(alice, [leo])
    ticket = client_for(leo).post(f"{MEETINGS}{meeting['id']}/join/", {}, format="json").json()
    with janus.client.handle() as room:
        assert room.exists(ticket["room"])
    past = timezone.now() - timedelta(hours=3)
    Meeting.objects.filter(pk=meeting["id"]).update(
        starts_at=past - timedelta(hours=1), ends_at=past
    )
    Participant.objects.filter(meeting_id=meeting["id"]).update(token_expires_at=past)
    assert sweep_rooms() == 1
    with janus.client.handle() as room:
        assert not room.exists(ticket["room"])
    assert ticket["token"] not in janus.client.tokens()
    assert sweep_rooms() == 0  # safe to run twice
