"""视频资源 in the PWA against the fake video platform: a permitted leader opens a camera
from 我的 and the HLS stream (real H.264, encoded by ffmpeg) plays in hls.js — frames are
decoded and the playhead moves; leaving the screen ends the view, and its start and end
are in the audit log. A person without a grant gets 404 and sees no 视频资源 entry.

Docs: docs/integrations.md#video-fake-and-tests. Skipped, with the reason printed, when Debian's
chromium or ffmpeg is missing (.ci/run installs both).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from cityfakes import video
from tests.deploy.helpers import PYTHON, REPO, http, wait_until
from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM, start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
    pytest.mark.skipif(video.ffmpeg_missing() is not None, reason=str(video.ffmpeg_missing())),
]

SECRET = "demo-video-secret"
PLAYING = """() => {
  const v = document.querySelector('[data-testid=camera-video]')
  return !!v && v.currentTime > 0.5 && v.getVideoPlaybackQuality().totalVideoFrames > 0
}"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    platform = video.make_platform(SECRET, folder=tmp_path_factory.mktemp("video-stream"))
    video.seed_demo(platform)
    with video.serve(platform) as base:
        env = {"GOVDESK_INTEGRATION_VIDEO_URL": base, "GOVDESK_INTEGRATION_VIDEO_SECRET": SECRET}
        server = start_server(tmp_path_factory.mktemp("cameras"), extra_env=env)
        try:
            yield server, platform
        finally:
            server.stop()


def audit_events(server, prefix: str) -> list[dict]:
    """The server's audit events whose action starts with ``prefix`` (read from its own
    database, as the audit API's readers would see them)."""
    code = (
        "import json; from api.audit.models import AuditEvent; print(json.dumps(list("
        f"AuditEvent.objects.filter(action__startswith={prefix!r}).order_by('seq').values("
        "'action', 'actor_username', 'object_id', 'result', 'detail'))))"
    )
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code], cwd=REPO, env=server.env,
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_permitted_leader_plays_a_camera_and_the_view_is_audited(stack, phone):
    server, platform = stack
    leader = Person(server.base, "leader1")
    cameras = leader.get("/api/v1/video/cameras/")["results"]
    assert {c["source_id"] for c in cameras} == set(platform.cameras)  # leaders see all
    camera = next(c for c in cameras if c["source_id"] == "TR-0101")

    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    page.goto(server.base + "/#/me")
    page.get_by_test_id("cameras-entry").tap()
    page.get_by_test_id("camera-group-traffic").wait_for()
    page.get_by_test_id(f"camera-{camera['id']}").tap()
    page.wait_for_function(PLAYING, timeout=90_000)
    frames = page.evaluate(
        "() => document.querySelector('[data-testid=camera-video]')"
        ".getVideoPlaybackQuality().totalVideoFrames"
    )
    assert frames > 0
    assert ("seg000.ts", 200) in platform.hls_requests  # the segments came signed

    views = leader.get("/api/v1/video/views/")["results"]
    assert [(v["camera_id"], v["ended_at"]) for v in views] == [(camera["id"], None)]
    page.go_back()  # leaving the player reports the end of the view
    wait_until(
        lambda: leader.get("/api/v1/video/views/")["results"][0]["ended_at"],
        60,
        "the view's end reported by the PWA",
    )
    events = audit_events(server, "video.view")
    assert [(e["action"], e["actor_username"]) for e in events] == [
        ("video.view", "leader1"),
        ("video.view_end", "leader1"),
    ]
    assert events[0]["detail"]["camera"] == "TR-0101"
    assert events[1]["detail"]["duration_seconds"] >= 0


def test_a_person_without_a_grant_gets_404_and_no_entry(stack, phone):
    server, _platform = stack
    staff = Person(server.base, "b_staff")  # 市发展和改革委员会: no camera grant
    assert staff.get("/api/v1/video/cameras/")["results"] == []
    camera_id = Person(server.base, "leader1").get("/api/v1/video/cameras/")["results"][0]["id"]
    status, body = http(
        "GET", f"{staff.base}/api/v1/video/cameras/{camera_id}/", headers=staff.headers
    )
    assert status == 404, body
    page = phone.new_page()
    sign_in(page, server.base, "b_staff")
    with page.expect_response(lambda r: "/api/v1/video/cameras/" in r.url) as answer:
        page.goto(server.base + "/#/me")
    assert answer.value.status == 200
    page.get_by_test_id("supervision-entry").wait_for()
    assert page.get_by_test_id("cameras-entry").count() == 0
