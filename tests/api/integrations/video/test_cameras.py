"""The video connector against the fake video platform on loopback: the catalogue sync
(cursor, late changes, retirement), permissions (404 for a camera without a grant),
signed play URLs (expired or forged refused by the platform), view sessions and their
audit, grants, and the lists' query budgets. Docs: docs/integrations.md#video.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.audit.models import AuditEvent
from api.integrations.video import actions, sync
from api.integrations.video.models import Camera, CameraGrant, ViewSession
from cityfakes import video
from tests.personas import client_for

CAMERAS = "/api/v1/video/cameras/"
GRANTS = "/api/v1/video/grants/"
VIEWS = "/api/v1/video/views/"

requires_ffmpeg = pytest.mark.skipif(
    video.ffmpeg_missing() is not None, reason=str(video.ffmpeg_missing())
)


def put_city(platform, org) -> None:
    platform.put_camera(
        "TW-1", name="广场东口", type="tianwang", lat=30.1, lng=104.2,
        address="人民广场东侧", owner_unit_code=org.bureau.code,
    )  # fmt: skip
    platform.put_camera(
        "TR-1", name="解放路口", type="traffic", lat=30.2, lng=104.3,
        address="解放路与新华路口", owner_unit_code=org.office.code,
    )  # fmt: skip
    platform.put_camera(
        "CT-1", name="城南公园", type="city", lat=30.3, lng=104.4,
        address="城南公园正门", owner_unit_code=org.district.code,
    )  # fmt: skip


def grant(org, creator, **fields) -> CameraGrant:
    return CameraGrant.objects.create(
        grantee_unit=fields.pop("grantee_unit", org.office), created_by=creator, **fields
    )


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- the catalogue --------------------------------------------------------------------


def test_sync_pulls_pages_after_the_cursor_and_retires_removed_cameras(platform, org):
    put_city(platform, org)
    for n in range(250):  # more than two pages of the feed
        platform.put_camera(f"X-{n}", name=f"路口{n}", type="traffic", owner_unit_code="nobody")
    cursor = sync.sync_all()
    assert Camera.objects.count() == 253
    tw = Camera.objects.get(source_id="TW-1")
    assert (tw.camera_type, tw.owner_unit, tw.address) == ("tianwang", org.bureau, "人民广场东侧")
    assert float(tw.latitude) == 30.1 and tw.online
    assert Camera.objects.get(source_id="X-1").owner_unit is None  # unknown owner code

    platform.put_camera("TR-1", name="解放路口（新）", online=False)
    platform.remove_camera("CT-1")
    assert sync.sync_all(cursor) != cursor
    assert Camera.objects.count() == 253  # retired, not deleted
    ct = Camera.objects.get(source_id="CT-1")
    assert ct.retired_at is not None and not ct.online
    tr = Camera.objects.get(source_id="TR-1")
    assert (tr.name, tr.online) == ("解放路口（新）", False)
    assert AuditEvent.objects.filter(action="video.camera_retired", object_id=str(ct.pk)).exists()


def test_the_connector_layer_pulls_the_feed_and_applies_each_change_once(platform, org):
    from api.integrations import actions as layer
    from api.integrations.models import ReceivedRecord
    from api.integrations.testing import process_all

    put_city(platform, org)
    assert layer.pull("video") == 3
    assert process_all("video") == 3
    assert Camera.objects.count() == 3
    platform.remove_camera("TW-1")
    platform.put_camera("TR-1", name="解放路口（新）")
    assert layer.pull("video") == 2  # from the stored cursor: only the two changes
    assert layer.pull("video") == 0
    assert process_all("video") == 2
    assert Camera.objects.get(source_id="TW-1").retired_at is not None
    assert Camera.objects.get(source_id="TR-1").name == "解放路口（新）"
    assert set(ReceivedRecord.objects.values_list("source_id", flat=True)) >= {"TW-1@4", "TR-1@5"}


def test_the_fake_refuses_unsigned_and_wrongly_signed_calls(platform):
    from api.integrations.config import ConnectorConfig
    from api.integrations.errors import PermanentError
    from api.integrations.http import client

    assert fetch(platform.base_url + "/api/cameras")[0] == 401
    wrong = ConnectorConfig(name="video", url=platform.base_url, secret="not-the-secret")
    with client(wrong) as http, pytest.raises(PermanentError, match="401"):
        http.get_json("api/cameras")


def test_a_late_or_repeated_change_never_moves_a_camera_back(org):
    new = {"id": "TW-9", "revision": 5, "name": "新名", "type": "tianwang", "location": {}}
    old = {**new, "revision": 3, "name": "旧名"}
    sync.apply_camera(sync.source_id_of(new), new)
    sync.apply_camera(sync.source_id_of(old), old)
    sync.apply_camera(sync.source_id_of(new), new)
    assert Camera.objects.get(source_id="TW-9").name == "新名"
    sync.apply_camera("TW-9@2", {"id": "TW-9", "revision": 2, "removed": True})
    assert Camera.objects.get(source_id="TW-9").retired_at is None
    sync.apply_camera("TW-9@6", {"id": "TW-9", "revision": 6, "removed": True})
    assert Camera.objects.get(source_id="TW-9").retired_at is not None
    with pytest.raises(sync.BadCameraRecord):
        sync.apply_camera("Z@1", {"id": "Z", "revision": 1, "type": "satellite"})


# --- permissions ------------------------------------------------------------------------


def test_a_person_without_a_grant_gets_404_and_the_list_never_shows_the_camera(
    platform, org, personas
):
    put_city(platform, org)
    sync.sync_all()
    # The office's people may view traffic cameras (any owner).
    grant(org, personas["ivy"], camera_type="traffic")
    tr = Camera.objects.get(source_id="TR-1")
    tw = Camera.objects.get(source_id="TW-1")

    bob = client_for(personas["bob"])
    listed = bob.get(CAMERAS).json()["results"]
    assert [c["source_id"] for c in listed] == ["TR-1"]
    assert listed[0]["location"] == {"lat": 30.2, "lng": 104.3, "address": "解放路与新华路口"}
    assert bob.get(f"{CAMERAS}{tr.pk}/").status_code == 200
    assert bob.get(f"{CAMERAS}{tw.pk}/").status_code == 404

    charlie = client_for(personas["charlie"])  # the bureau: no grant
    assert charlie.get(CAMERAS).json()["results"] == []
    response = charlie.get(f"{CAMERAS}{tr.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert charlie.post(f"{CAMERAS}{tr.pk}/play/", {}, format="json").status_code == 404
    assert platform.play_requests == []  # the platform was never asked
    denied = AuditEvent.objects.filter(actor_id=personas["charlie"].pk, result="denied")
    assert {e.action for e in denied} == {"video.camera_view", "video.view"}
    assert client_for(personas["charlie"]).get(f"{CAMERAS}999999/").status_code == 404


def test_role_grants_owner_subtrees_and_who_sees_everything(platform, org, personas):
    put_city(platform, org)
    sync.sync_all()
    ids = {c.source_id: c.pk for c in Camera.objects.all()}
    # Leaders anywhere in the city may view the city's cameras owned by the district.
    grant(org, personas["ivy"], grantee_unit=org.city, role="leader", owner_unit=org.district)

    def visible(user) -> set[str]:
        return {c["source_id"] for c in client_for(user).get(CAMERAS).json()["results"]}

    assert visible(personas["leo"]) == {"CT-1"}
    assert visible(personas["bob"]) == set()  # the office, but not a leader
    assert visible(personas["ivy"]) == {"TW-1", "TR-1", "CT-1"}  # city IT admin
    assert visible(personas["dana"]) == {"CT-1"}  # unit admin of the owner (the district)
    assert visible(personas["alice"]) == {"TR-1"}  # unit admin of the office: its camera
    assert client_for(personas["leo"]).get(f"{CAMERAS}{ids['TW-1']}/").status_code == 404


def test_grants_are_managed_by_the_city_it_admin_and_the_owner_units_admin(platform, org, personas):
    alice, charlie, ivy = (client_for(personas[k]) for k in ("alice", "charlie", "ivy"))
    own = {
        "grantee_unit_id": org.bureau.pk,
        "camera_type": "traffic",
        "owner_unit_id": org.office.pk,
    }
    created = alice.post(GRANTS, own, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["owner_unit"]["id"] == org.office.pk
    assert alice.post(GRANTS, own, format="json").json()["error"]["code"] == "grant_exists"
    other = {**own, "owner_unit_id": org.bureau.pk}
    assert alice.post(GRANTS, other, format="json").status_code == 403
    assert alice.post(GRANTS, {"grantee_unit_id": org.bureau.pk}, format="json").status_code == 403
    assert ivy.post(GRANTS, {"grantee_unit_id": org.bureau.pk}, format="json").status_code == 201
    assert ivy.post(GRANTS, {"grantee_unit_id": org.bureau.pk}, format="json").status_code == 409
    assert charlie.get(GRANTS).status_code == 403
    assert charlie.post(GRANTS, own, format="json").status_code == 403
    assert alice.post(GRANTS, {**own, "grantee_unit_id": 999999}, format="json").status_code == 404
    assert alice.post(GRANTS, {**own, "colour": "red"}, format="json").status_code == 400

    grant_id = created.json()["id"]
    assert len(alice.get(GRANTS).json()["results"]) == 1  # not ivy's any-owner grant
    assert (
        client_for(personas["dana"])
        .post(f"{GRANTS}{grant_id}/revoke/", {}, format="json")
        .status_code
        == 404
    )
    revoked = alice.post(f"{GRANTS}{grant_id}/revoke/", {}, format="json")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    actions_seen = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"video.grant_create", "video.grant_revoke"} <= actions_seen
    assert AuditEvent.objects.filter(
        action="video.grant_create", result="denied", actor_id=personas["charlie"].pk
    ).exists()


# --- viewing ------------------------------------------------------------------------------


@requires_ffmpeg
def test_a_permitted_view_gets_a_signed_url_that_plays_and_is_audited_with_its_duration(
    platform, org, personas
):
    put_city(platform, org)
    sync.sync_all()
    grant(org, personas["ivy"], camera_type="traffic")
    tr = Camera.objects.get(source_id="TR-1")
    bob = client_for(personas["bob"])

    response = bob.post(f"{CAMERAS}{tr.pk}/play/", {}, format="json")
    assert response.status_code == 201, response.json()
    play = response.json()
    assert play["url"].startswith(platform.base_url + "/hls/TR-1/index.m3u8?")
    assert platform.play_requests == [
        {"camera_id": "TR-1", "viewer": f"govdesk-{personas['bob'].pk}", "ttl": 300}
    ]
    status, playlist = fetch(play["url"])
    assert status == 200 and playlist.startswith(b"#EXTM3U")
    segment = next(
        line for line in playlist.decode().splitlines() if line.endswith(play["url"].split("?")[1])
    )
    status, data = fetch(urllib.parse.urljoin(play["url"], segment))
    assert status == 200 and data[:1] == b"\x47"  # an MPEG-TS sync byte

    view = ViewSession.objects.get(pk=play["view_id"])
    assert (view.viewer, view.camera, view.ended_at) == (personas["bob"], tr, None)
    started = AuditEvent.objects.get(action="video.view", object_id=str(view.pk))
    assert started.actor_id == personas["bob"].pk and started.detail["camera"] == "TR-1"

    ViewSession.objects.filter(pk=view.pk).update(
        started_at=view.started_at - timedelta(seconds=95)
    )
    assert bob.post(f"{VIEWS}{view.pk}/heartbeat/", {}, format="json").status_code == 200
    stopped = bob.post(f"{VIEWS}{view.pk}/stop/", {}, format="json").json()
    assert stopped["ended_at"] and stopped["duration_seconds"] >= 95
    ended = AuditEvent.objects.get(action="video.view_end", object_id=str(view.pk))
    assert ended.detail["duration_seconds"] >= 95 and ended.detail["reason"] == "stopped"
    bob.post(f"{VIEWS}{view.pk}/stop/", {}, format="json")  # a second stop changes nothing
    assert AuditEvent.objects.filter(action="video.view_end").count() == 1
    assert (
        client_for(personas["charlie"])
        .post(f"{VIEWS}{view.pk}/stop/", {}, format="json")
        .status_code
        == 404
    )


@requires_ffmpeg
def test_the_platform_refuses_expired_and_forged_play_urls(platform, org, personas):
    put_city(platform, org)
    sync.sync_all()
    grant(org, personas["ivy"])  # every camera, for the office
    cameras = {c.source_id: c.pk for c in Camera.objects.all()}
    bob = client_for(personas["bob"])
    url = bob.post(f"{CAMERAS}{cameras['TR-1']}/play/", {}, format="json").json()["url"]
    assert fetch(url)[0] == 200

    forged = url.replace("sig=", "sig=0")
    assert fetch(forged)[0] == 403
    other_viewer = url.replace("viewer=govdesk-", "viewer=govdesk-9")
    assert fetch(other_viewer)[0] == 403
    other_camera = url.replace("/hls/TR-1/", "/hls/TW-1/")  # a token is for one camera
    assert fetch(other_camera)[0] == 403
    longer = url.replace("exp=", "exp=9")
    assert fetch(longer)[0] == 403
    segment = url.replace("index.m3u8", "seg000.ts")
    assert fetch(segment)[0] == 200
    assert fetch(segment.split("?")[0])[0] == 403  # no token at all

    real_clock = platform.clock
    platform.clock = lambda: real_clock() + 301  # five minutes and a second later
    status, body = fetch(url)
    assert (status, b"expired" in body) == (403, True)
    assert fetch(segment)[0] == 403


def test_play_when_the_platform_is_down_or_the_camera_is_retired(
    platform, org, personas, monkeypatch
):
    put_city(platform, org)
    sync.sync_all()
    grant(org, personas["ivy"])
    tr = Camera.objects.get(source_id="TR-1")
    bob = client_for(personas["bob"])
    platform.put_camera("TR-1", online=False)
    sync.sync_all()
    assert (
        bob.post(f"{CAMERAS}{tr.pk}/play/", {}, format="json").json()["error"]["code"]
        == "camera_offline"
    )
    platform.put_camera("TR-1", online=True)
    sync.sync_all()
    platform.put_camera("TR-1", online=False)  # upstream only: the platform refuses it
    refused = bob.post(f"{CAMERAS}{tr.pk}/play/", {}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (503, "video_unavailable")
    monkeypatch.setenv("GOVDESK_INTEGRATION_VIDEO_URL", "http://127.0.0.1:9/video/")
    down = bob.post(f"{CAMERAS}{tr.pk}/play/", {}, format="json")
    assert (down.status_code, down.json()["error"]["code"]) == (503, "video_unavailable")
    Camera.objects.filter(pk=tr.pk).update(retired_at=timezone.now())
    listed = [c["id"] for c in bob.get(CAMERAS).json()["results"]]
    assert listed and tr.pk not in listed
    assert bob.get(f"{CAMERAS}{tr.pk}/").json()["retired"] is True
    assert (
        bob.post(f"{CAMERAS}{tr.pk}/play/", {}, format="json").json()["error"]["code"]
        == "camera_retired"
    )
    assert not ViewSession.objects.exists()


def test_a_view_without_a_stop_ends_at_its_last_heartbeat(org, personas):
    camera = Camera.objects.create(source_id="C", name="C", camera_type="city")
    now = timezone.now()
    view = ViewSession.objects.create(
        camera=camera, viewer=personas["bob"], started_at=now - timedelta(minutes=10),
        last_seen_at=now - timedelta(minutes=7), url_expires_at=now,
    )  # fmt: skip
    assert actions.close_stale_views() == 1
    assert actions.close_stale_views() == 0
    view.refresh_from_db()
    assert view.ended_at == view.last_seen_at and view.duration_seconds == 180
    event = AuditEvent.objects.get(action="video.view_end")
    assert event.detail["reason"] == "no_heartbeat" and event.unit_id == personas["bob"].unit_id


# --- query budgets ----------------------------------------------------------------------


def test_list_query_counts_do_not_grow(org, personas, django_assert_max_num_queries):
    ivy = personas["ivy"]
    grant(org, ivy, camera_type="traffic")
    grant(org, ivy, grantee_unit=org.city, role="clerk", owner_unit=org.office)

    def add(n: int) -> None:
        for i in range(n):
            camera = Camera.objects.create(
                source_id=f"Q-{Camera.objects.count()}-{i}", name="路口", camera_type="traffic",
                owner_unit=org.office,
            )  # fmt: skip
            ViewSession.objects.create(
                camera=camera, viewer=personas["bob"], url_expires_at=timezone.now()
            )

    add(1)
    budgets = {}
    clients = {"bob": client_for(personas["bob"]), "ivy": client_for(ivy)}
    for who, path in (("bob", CAMERAS), ("bob", VIEWS), ("ivy", VIEWS), ("ivy", GRANTS)):
        with CaptureQueriesContext(connection) as ctx:
            assert clients[who].get(path).status_code == 200
        budgets[who, path] = len(ctx.captured_queries)
    add(12)
    for i, role in enumerate(["staff", "leader", "clerk", "unit_admin", "supervisor"]):
        kind = "city" if i % 2 else "tianwang"
        grant(org, ivy, grantee_unit=org.bureau, camera_type=kind, role=role)
    for (who, path), budget in budgets.items():
        with django_assert_max_num_queries(budget):
            body = clients[who].get(path).json()
        assert len(body["results"]) > 1


def test_the_demo_seed_grants_and_pulls_the_demo_catalogue_once(platform, org):
    from api.integrations.video import demo
    from tests.personas import Role, make_unit, make_user

    police = make_unit("公安局", "bureau", org.city, code="XC-GA")
    make_unit("市政府", "city", None, code="XC")
    make_unit("办公室", "office", org.city, code="XC-OFF")
    make_user("admin", org.city, Role.CITY_IT_ADMIN)
    video.seed_demo(platform)
    assert demo.seed() == {"camera_grants_created": 4, "cameras_synced": 6}
    assert demo.seed() == {"camera_grants_created": 0, "cameras_synced": 6}
    assert Camera.objects.filter(owner_unit=police).count() == 4
