"""Manual urges and the urge lists over HTTP (docs/urging.md#api).

The task: a review task of leo (office leader) on a document drafted by bob (office
clerk), sent to leo by alice (office unit admin). sam supervises the city.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.accounts.models import Role
from api.audit.models import AuditEvent
from api.notify.models import Notification
from api.urging import actions
from api.urging.models import UrgeRecord
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(make_task):
    now = timezone.now()
    return make_task(received=now - timedelta(hours=1), due=now + timedelta(days=3))


def urge(user, task_id, message="请于今天下班前办理。", **headers):
    return client_for(user).post(
        f"/api/v1/tasks/{task_id}/urge/", {"message": message}, format="json", **headers
    )


@pytest.mark.parametrize("who", ["alice", "bob", "sam"])
def test_sender_drafter_and_supervisor_may_urge(personas, task, who):
    response = urge(personas[who], task.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "manual" and body["message"] == "请于今天下班前办理。"
    assert body["task_id"] == task.pk
    assert body["by"] == {"id": personas[who].pk, "display_name": who}
    assert body["urged"] == {"id": personas["leo"].pk, "display_name": "leo"}
    assert body["unit"]["id"] == personas["leo"].unit_id
    assert 0 <= body["elapsed_fraction"] < 1  # received an hour ago, due in 3 days
    notification = Notification.objects.get(pk=body["notification_id"])
    assert notification.recipient == personas["leo"]
    assert (notification.kind, notification.urgency, notification.task_id) == (
        "urge",
        "high",
        task.pk,
    )
    assert "请于今天下班前办理。" in notification.body
    event = AuditEvent.objects.get(action="task.urged")
    assert event.actor_id == personas[who].pk and event.detail["urge_id"] == body["id"]


def test_someone_who_cannot_see_the_task_gets_404(personas, task):
    for who in ("charlie", "dana"):
        response = urge(personas[who], task.pk)
        assert response.status_code == 404, (who, response.content)
        assert response.json()["error"]["code"] == "not_found"
    denied = AuditEvent.objects.filter(action="task.urge", result="denied")
    assert denied.count() == 2
    assert urge(personas["alice"], 999999).status_code == 404
    assert UrgeRecord.objects.count() == 0 and Notification.objects.count() == 0


def test_someone_who_sees_it_but_may_not_urge_gets_403(personas, org, task):
    carol = make_user("carol", org.office, Role.CLERK, Role.STAFF)  # a clerk of the office
    for user in (carol, personas["ivy"], personas["leo"]):  # clerk, IT admin, the holder
        response = urge(user, task.pk)
        assert response.status_code == 403, (user.username, response.content)
        assert response.json()["error"]["code"] == "urge_not_allowed"
    assert AuditEvent.objects.filter(action="task.urge", result="denied").count() == 3
    assert UrgeRecord.objects.count() == 0


def test_a_supervisor_elsewhere_sees_nothing(personas, org, task):
    far = make_user("far", org.township, Role.SUPERVISOR)  # supervises the township only
    assert urge(far, task.pk).status_code == 404


def test_only_open_tasks(personas, make_task):
    done = make_task(state="done")
    response = urge(personas["alice"], done.pk)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "task_not_open"


@pytest.mark.parametrize(
    "body",
    [{"message": ""}, {"message": "x" * 201}, {}, {"message": "ok", "extra": 1}, ["x"]],
)
def test_bad_bodies_are_400(personas, task, body):
    response = client_for(personas["alice"]).post(
        f"/api/v1/tasks/{task.pk}/urge/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("validation_error", "unknown_field")


def test_two_hundred_characters_are_fine(personas, task):
    assert urge(personas["alice"], task.pk, message="催" * 200).status_code == 201


def test_the_manual_cap_per_sender_and_task(personas, task):
    assert urge(personas["alice"], task.pk).status_code == 201
    again = urge(personas["alice"], task.pk, message="再催一次")
    assert again.status_code == 429
    error = again.json()["error"]
    assert error["code"] == "urge_too_soon"
    assert 1700 < error["retry_after"] <= 1800
    assert again["Retry-After"] == str(error["retry_after"])
    # Someone else may still urge; the cap is per person.
    assert urge(personas["bob"], task.pk).status_code == 201
    # 30 minutes later alice may urge again.
    UrgeRecord.objects.filter(by=personas["alice"]).update(
        created_at=timezone.now() - timedelta(minutes=30, seconds=1)
    )
    assert urge(personas["alice"], task.pk, message="再催一次").status_code == 201
    assert UrgeRecord.objects.filter(kind="manual").count() == 3


def test_an_idempotent_replay_urges_once(personas, task):
    key = f"urge-{uuid.uuid4()}"  # Redis outlives the test database: never reuse a key
    first = urge(personas["alice"], task.pk, HTTP_IDEMPOTENCY_KEY=key)
    second = urge(personas["alice"], task.pk, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert UrgeRecord.objects.count() == 1
    assert Notification.objects.filter(kind="urge").count() == 1


def test_a_rolled_back_manual_urge_sends_nothing(personas, task, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(actions, "record", broken)
    with pytest.raises(RuntimeError):
        actions.urge(task.pk, personas["alice"], "请办理")
    assert UrgeRecord.objects.count() == 0 and Notification.objects.count() == 0


# --- GET /tasks/{id}/urges/ ------------------------------------------------------------


def test_the_urges_of_a_task(personas, task):
    urge(personas["alice"], task.pk, message="第一次")
    urge(personas["sam"], task.pk, message="第二次")
    for who in ("leo", "alice", "bob", "sam"):
        response = client_for(personas[who]).get(f"/api/v1/tasks/{task.pk}/urges/")
        assert response.status_code == 200, (who, response.content)
        assert [u["message"] for u in response.json()["results"]] == ["第二次", "第一次"]
    for who in ("charlie", "dana"):
        response = client_for(personas[who]).get(f"/api/v1/tasks/{task.pk}/urges/")
        assert response.status_code == 404
    assert client_for(None).get(f"/api/v1/tasks/{task.pk}/urges/").status_code == 401


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _many_urges(task, personas, n):
    now = timezone.now()
    UrgeRecord.objects.bulk_create(
        UrgeRecord(
            task=task,
            document=task.document,
            unit_id=personas["leo"].unit_id,
            kind="manual",
            urged=personas["leo"],
            by=personas["alice"],
            message=f"第{i}次",
            created_at=now - timedelta(minutes=i),
        )
        for i in range(n)
    )


def test_task_urges_query_count_does_not_grow(personas, task):
    _many_urges(task, personas, 3)
    client = client_for(personas["leo"])
    url = f"/api/v1/tasks/{task.pk}/urges/"
    small = _queries(client, url, {"page_size": 2})
    _many_urges(task, personas, 40)
    assert _queries(client, url, {"page_size": 40}) == small


# --- GET /urges/ (supervisors) -------------------------------------------------------------


def test_the_supervisors_feed_and_its_filters(personas, org, make_task, task):
    urge(personas["alice"], task.pk, message="办公室")
    bureau_person = make_user("bp", org.bureau, Role.STAFF)
    bureau_task = make_task(bureau_person)
    urge(personas["alice"], bureau_task.pk, message="发改委")
    sam = client_for(personas["sam"])
    body = sam.get("/api/v1/urges/").json()
    assert [u["message"] for u in body["results"]] == ["发改委", "办公室"]
    assert sam.get("/api/v1/urges/", {"unit": org.bureau.pk}).json()["results"][0]["message"] == (
        "发改委"
    )
    assert len(sam.get("/api/v1/urges/", {"unit": org.office.pk}).json()["results"]) == 1
    assert sam.get("/api/v1/urges/", {"kind": "auto_red"}).json()["results"] == []
    assert len(sam.get("/api/v1/urges/", {"kind": "manual"}).json()["results"]) == 2
    today = timezone.localtime().date()
    assert len(sam.get("/api/v1/urges/", {"from": today.isoformat()}).json()["results"]) == 2
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert sam.get("/api/v1/urges/", {"from": tomorrow}).json()["results"] == []
    yesterday = (today - timedelta(days=1)).isoformat()
    assert sam.get("/api/v1/urges/", {"to": yesterday}).json()["results"] == []
    # A township supervisor sees neither; a unit outside their scope is 404.
    far = client_for(make_user("far", org.township, Role.SUPERVISOR))
    assert far.get("/api/v1/urges/").json()["results"] == []
    assert far.get("/api/v1/urges/", {"unit": org.office.pk}).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "nope"},
        {"from": "2026-13-01"},
        {"from": "2026-11-02", "to": "2026-11-01"},
        {"unit": "x"},
    ],
)
def test_feed_bad_parameters_are_400(personas, params):
    response = client_for(personas["sam"]).get("/api/v1/urges/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_feed_is_for_supervisors_only(personas):
    for who in ("alice", "bob", "leo", "ivy"):
        response = client_for(personas[who]).get("/api/v1/urges/")
        assert response.status_code == 403, who
    assert AuditEvent.objects.filter(action="urge.list", result="denied").count() == 4


def test_feed_query_count_does_not_grow(personas, task):
    _many_urges(task, personas, 3)
    client = client_for(personas["sam"])
    small = _queries(client, "/api/v1/urges/", {"page_size": 2})
    _many_urges(task, personas, 60)
    assert _queries(client, "/api/v1/urges/", {"page_size": 50}) == small


def test_feed_pages_with_a_cursor(personas, task):
    _many_urges(task, personas, 7)
    client = client_for(personas["sam"])
    seen, url, params = [], "/api/v1/urges/", {"page_size": 3}
    while url:
        body = client.get(url, params).json()
        seen += [u["id"] for u in body["results"]]
        url, params = body["next"], None
    assert len(seen) == len(set(seen)) == 7
    assert client.get("/api/v1/urges/", {"cursor": "garbage"}).status_code == 404
