"""A video meeting through the PWA on a real Janus: two invited people join from
headless Chromium with fake cameras and each decodes the other's video; a third,
uninvited person is refused by Janus itself; the attendance record comes from
Janus's own event posts to the server.

Docs: docs/meetings.md#tests. Skipped, with the reason printed, when Debian's chromium
or janus is missing (.ci/run installs both).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from api.meetings.janus.client import VIDEOROOM, JanusError, _post
from tests.api.meetings.janus_server import requires_janus, start_janus
from tests.deploy.helpers import free_port, http, wait_until
from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM, CHROMIUM_ARGS, PHONE, start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    requires_janus,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]

MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meetings")
    port = free_port()
    janus = start_janus(
        folder / "janus", event_url=f"http://127.0.0.1:{port}/api/v1/meetings/janus-events/"
    )
    try:
        server = start_server(folder / "server", extra_env=janus.env(), port=port)
        try:
            yield server, janus
        finally:
            server.stop()
    finally:
        janus.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *MEDIA_ARGS], headless=True
        )
        yield chromium
        chromium.close()


def post(person: Person, path: str, body: dict) -> tuple[int, dict]:
    return http("POST", person.base + path, body, headers=person.headers)


def open_meeting(browser, base: str, username: str, meeting_id: int):
    context = browser.new_context(**PHONE)
    context.grant_permissions(["camera", "microphone"], origin=base)
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in(page, base, username)
    page.goto(f"{base}/#/meetings/{meeting_id}")
    page.get_by_test_id("join").tap()
    return context, page


def frames_from_others(page) -> dict:
    return page.evaluate(
        "async () => window.__govdeskMeeting ? await window.__govdeskMeeting.framesDecoded() : {}"
    )


def test_two_invited_people_see_each_other_and_janus_refuses_the_third(stack, browser):
    server, janus = stack
    director = Person(server.base, "director")
    leader1, leader2 = Person(server.base, "leader1"), Person(server.base, "leader2")
    leader3 = Person(server.base, "leader3")
    now = datetime.now(UTC)
    status, meeting = post(
        director,
        "/api/v1/meetings/",
        {
            "title": "视频调度会",
            "starts_at": (now + timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "place": "第一会议室",
            "user_ids": [leader1.id, leader2.id],
        },
    )
    assert status == 201, meeting

    first, page1 = open_meeting(browser, server.base, "leader1", meeting["id"])
    second, page2 = open_meeting(browser, server.base, "leader2", meeting["id"])
    try:
        # Each receives the other's video: frames decoded > 0 in getStats().
        for page in (page1, page2):
            frames = wait_until(
                lambda page=page: (
                    (f := frames_from_others(page)) and all(v > 0 for v in f.values()) and f
                ),
                60,
                "frames decoded from the other participant",
            )
            assert len(frames) == 1, frames
            assert page.get_by_test_id("meeting-error").count() == 0

        # The third person is not invited: 404 from the API ...
        status, _ = post(leader3, f"/api/v1/meetings/{meeting['id']}/join/", {})
        assert status == 404
        # ... and Janus itself refuses him, even knowing the room and its PIN: no token,
        api_url = janus.config.api_url()
        with pytest.raises(JanusError) as refused:
            _post(api_url, {"janus": "create"})
        assert refused.value.code == 403
        # and a valid token of a meeting he is invited to does not open this room.
        status, own = post(
            leader3,
            "/api/v1/meetings/",
            {
                "title": "另一个会",
                "starts_at": (now + timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
            },
        )
        status, ticket = post(leader3, f"/api/v1/meetings/{own['id']}/join/", {})
        assert status == 200, ticket
        room = _room_and_pin_as_seen_by(leader1, meeting["id"])
        token = ticket["token"]
        session = _post(api_url, {"janus": "create", "token": token})["data"]["id"]
        handle = _post(
            f"{api_url}/{session}", {"janus": "attach", "plugin": VIDEOROOM, "token": token}
        )
        body = {"request": "join", "ptype": "publisher", "room": room["room"], "pin": room["pin"],
                "token": token, "display": "leader3"}  # fmt: skip
        _post(
            f"{api_url}/{session}/{handle['data']['id']}",
            {"janus": "message", "token": token, "body": body},
        )
        with urllib.request.urlopen(f"{api_url}/{session}?maxev=1&token={token}", timeout=10) as r:
            event = json.loads(r.read())
        assert event["plugindata"]["data"].get("error_code") == 433, event  # unauthorized

        # The attendance record: both joined (from Janus's events), for some time.
        def both_in_room():
            rows = director.get(f"/api/v1/meetings/{meeting['id']}/attendance/")["rows"]
            return {r["user_id"]: r for r in rows if r["in_room"]}

        rows = wait_until(lambda: (r := both_in_room()) and len(r) == 2 and r, 20, "joined events")
        assert set(rows) == {leader1.id, leader2.id}
        assert all(r["signin_method"] == "room" for r in rows.values())

        # The host mutes leader2's microphone for the room (the VideoRoom's moderate).
        p2 = next(p for p in meeting["participants"] if p["user"]["id"] == leader2.id)
        path = f"/api/v1/meetings/{meeting['id']}/participants/{p2['id']}/mute/"
        status, muted = post(director, path, {"muted": True})
        assert status == 200 and muted["streams"] >= 1, muted

        # Janus restarts (rooms and tokens live in its memory): both screens notice the
        # lost connection and join again on their own; GovDesk re-creates the room and
        # re-adds the tokens; video flows again.
        for page in (page1, page2):
            page.evaluate("() => { window.__govdeskMeeting.before = true }")
        janus.restart()
        for page in (page1, page2):
            wait_until(
                lambda page=page: page.evaluate(
                    "async () => { const r = window.__govdeskMeeting;"
                    " if (!r || r.before) return false;"
                    " const f = await r.framesDecoded(); const v = Object.values(f);"
                    " return v.length === 1 && v[0] > 0 }"
                ),
                90,
                "video again after Janus restarted",
            )
    finally:
        first.close()
        second.close()

    status, ended = post(director, f"/api/v1/meetings/{meeting['id']}/end/", {})
    assert status == 200 and ended["state"] == "ended"
    rows = director.get(f"/api/v1/meetings/{meeting['id']}/attendance/")["rows"]
    stayed = {r["user_id"]: r for r in rows}
    assert stayed[leader1.id]["stays"] >= 1 and stayed[leader2.id]["stays"] >= 1
    assert not any(r["in_room"] for r in rows)
    assert stayed[director.id]["stays"] == 0


def _room_and_pin_as_seen_by(person: Person, meeting_id: int) -> dict:
    """What an invited person's join answer says (the uninvited one never gets it)."""
    status, ticket = post(person, f"/api/v1/meetings/{meeting_id}/join/", {})
    assert status == 200, ticket
    return ticket
