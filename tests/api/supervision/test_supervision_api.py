"""The supervision API end to end: create, milestones, progress, urge, close,
permissions, audit, escalation. Docs: docs/supervision.md."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.audit.models import AuditEvent
from api.notify.models import Notification
from api.supervision import actions
from api.supervision.models import Light, SupervisedItem, Urge
from api.supervision.tasks import refresh_supervision_lights
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db
ITEMS = "/api/v1/supervision/items/"


def api(user):
    client = client_for(user)
    client.default_format = "json"
    return client


def iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


def create(personas, org, **extra):
    body = {
        "title": "推进政务服务“一网通办”",
        "source": "manual",
        "owner_unit_id": org.office.pk,
        "deadline": iso(timedelta(days=60)),
        **extra,
    }
    response = api(personas["sam"]).post(ITEMS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_whole_flow(org, personas):
    sam, leo, bob = (api(personas[n]) for n in ("sam", "leo", "bob"))
    item = create(
        personas,
        org,
        source="instruction",
        instruction="请市政府办公室牵头，月底前报送方案。",
        milestones=[{"title": "报送方案", "due": iso(timedelta(days=20))}],
    )
    assert (item["state"], item["light"], item["progress"]) == ("open", "green", 0)
    assert item["owner_unit"] == {"id": org.office.pk, "name": "测试市政府办公室"}
    milestone_id = item["milestones"][0]["id"]
    pk = item["id"]

    response = leo.post(f"{ITEMS}{pk}/progress/", {"text": "已起草方案", "percent": 40})
    assert response.status_code == 201, response.content
    assert bob.post(f"{ITEMS}{pk}/milestones/{milestone_id}/done/", {}).status_code == 200
    # Marking it done again changes nothing.
    again = bob.post(f"{ITEMS}{pk}/milestones/{milestone_id}/done/", {})
    assert again.status_code == 200 and again.json()["done_at"] is not None
    detail = sam.get(f"{ITEMS}{pk}/").json()
    assert detail["progress"] == 40 and detail["milestones"][0]["done_at"] is not None
    assert [r["percent"] for r in sam.get(f"{ITEMS}{pk}/progress/").json()["results"]] == [40]

    urge = sam.post(f"{ITEMS}{pk}/urge/", {"message": "请加快进度"})
    assert urge.status_code == 201, urge.content
    assert sorted(urge.json()["recipients"]) == sorted([personas["leo"].pk, personas["bob"].pk])
    notes = Notification.objects.filter(
        kind="supervision", dedup_key=f"supervision_urge:{urge.json()['id']}"
    )
    assert {n.recipient.username for n in notes} == {"leo", "bob"}
    assert all(n.body == "请加快进度" for n in notes)

    closed = sam.post(f"{ITEMS}{pk}/close/", {"result": "方案已印发实施。"})
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["light"]) == ("closed", None)
    assert closed.json()["result"] == "方案已印发实施。"
    for path, who, body in [
        ("close/", sam, {"result": "x"}),
        ("urge/", sam, {}),
        ("progress/", leo, {"text": "x", "percent": 50}),
        ("milestones/", sam, {"title": "x", "due": iso(timedelta(days=1))}),
    ]:
        response = who.post(f"{ITEMS}{pk}/{path}", body, format="json")
        assert response.status_code == 409, path
        assert response.json()["error"]["code"] == "supervision_closed"

    actions_seen = set(
        AuditEvent.objects.filter(
            object_type="supervision.superviseditem", object_id=str(pk)
        ).values_list("action", flat=True)
    )
    assert {
        "supervision.created",
        "supervision.progress_reported",
        "supervision.milestone_done",
        "supervision.urged",
        "supervision.closed",
    } <= actions_seen
    assert AuditEvent.objects.filter(action="supervision.viewed", actor_username="sam").exists()


def test_another_units_item_is_404_for_non_supervisors(org, personas):
    pk = create(personas, org)["id"]
    charlie = api(personas["charlie"])
    assert charlie.get(f"{ITEMS}{pk}/").status_code == 404
    assert charlie.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 1}).status_code == 404
    assert charlie.get(ITEMS).json()["results"] == []
    assert AuditEvent.objects.filter(
        action="supervision.view", actor_username="charlie", result="denied"
    ).exists()


def test_roles(org, personas):
    pk = create(personas, org)["id"]
    alice = api(personas["alice"])  # office member, not leader or clerk
    assert alice.get(f"{ITEMS}{pk}/").status_code == 200
    assert alice.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 1}).status_code == 403
    leo = api(personas["leo"])
    assert leo.post(f"{ITEMS}{pk}/close/", {"result": "x"}).status_code == 403
    assert leo.post(f"{ITEMS}{pk}/urge/", {}).status_code == 403
    sam = api(personas["sam"])
    assert sam.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 1}).status_code == 403
    body = {"title": "x", "source": "manual", "owner_unit_id": org.office.pk,
            "deadline": iso(timedelta(days=3))}  # fmt: skip
    assert leo.post(ITEMS, body, format="json").status_code == 403
    assert AuditEvent.objects.filter(
        action="supervision.progress", actor_username="alice", result="denied"
    ).exists()
    assert AuditEvent.objects.filter(
        action="supervision.create", actor_username="leo", result="denied"
    ).exists()


def test_a_district_supervisor_cannot_reach_city_units(org, personas):
    from api.accounts.models import Role

    zoe = api(make_user("zoe", org.district, Role.SUPERVISOR))
    pk = create(personas, org)["id"]
    assert zoe.get(f"{ITEMS}{pk}/").status_code == 404
    body = {"title": "x", "source": "manual", "owner_unit_id": org.office.pk,
            "deadline": iso(timedelta(days=3))}  # fmt: skip
    response = zoe.post(ITEMS, body, format="json")
    assert response.status_code == 400 and "owner_unit_id" in response.json()["error"]["fields"]
    assert AuditEvent.objects.filter(
        action="supervision.create", actor_username="zoe", result="denied"
    ).exists()
    body["owner_unit_id"] = org.township.pk
    assert zoe.post(ITEMS, body, format="json").status_code == 201


def test_a_document_outside_the_scope_reads_as_missing_and_is_recorded(org, personas):
    from api.accounts.models import Role
    from tests.api.stats.conftest import make_instance

    zoe = api(make_user("zoe", org.district, Role.SUPERVISOR))
    office_document = make_instance(org, personas["bob"]).document  # a city office's
    body = {"title": "x", "source": "document", "document_id": office_document.pk,
            "owner_unit_id": org.township.pk, "deadline": iso(timedelta(days=3))}  # fmt: skip
    response = zoe.post(ITEMS, body, format="json")
    assert response.status_code == 400
    assert "document_id" in response.json()["error"]["fields"]
    denied = AuditEvent.objects.get(
        action="supervision.create", actor_username="zoe", result="denied"
    )
    assert denied.detail["reason"] == "document_outside_scope"
    assert not SupervisedItem.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deadline": "2020-01-01T00:00:00+08:00"}, "deadline"),
        ({"source": "document"}, "document_id"),
        ({"document_id": 1}, "document_id"),
        ({"source": "instruction"}, "instruction"),
        ({"owner_unit_id": 999999}, "owner_unit_id"),
        ({"source": "nope"}, "source"),
        ({"milestones": [{"title": "m", "due": "2099-01-01T00:00:00+08:00"}]}, "milestones[0].due"),
    ],
)
def test_bad_input_on_create(org, personas, change, field):
    body = {"title": "x", "source": "manual", "owner_unit_id": org.office.pk,
            "deadline": iso(timedelta(days=3)), **change}  # fmt: skip
    response = api(personas["sam"]).post(ITEMS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not SupervisedItem.objects.exists()


@pytest.mark.parametrize(
    "deadline",
    [
        "9999-12-31T23:00:00+08:00",  # walked the calendar for seconds, then overflowed
        "2200-01-01T00:00:00+08:00",
        None,  # a century and two days from now
    ],
)
def test_a_deadline_more_than_a_century_ahead_is_400(org, personas, deadline):
    body = {
        "title": "x",
        "source": "manual",
        "owner_unit_id": org.office.pk,
        "deadline": deadline or iso(timedelta(days=36_525 + 2)),
    }
    response = api(personas["sam"]).post(ITEMS, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "deadline" in response.json()["error"]["fields"]
    assert not SupervisedItem.objects.exists()


def test_a_deadline_just_under_a_century_is_accepted(org, personas):
    item = create(personas, org, deadline=iso(timedelta(days=36_524)))
    assert item["light"] == "green"


def test_bad_progress_and_unknown_fields(org, personas):
    pk = create(personas, org)["id"]
    leo = api(personas["leo"])
    assert leo.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 101}).status_code == 400
    response = leo.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 1, "light": "green"})
    assert response.json()["error"]["code"] == "unknown_field"


def test_source_document(org, personas):
    from tests.api.stats.conftest import make_instance

    document = make_instance(org, personas["bob"]).document
    item = create(personas, org, source="document", document_id=document.pk)
    assert item["document_id"] == document.pk


def test_list_filters(org, personas):
    first = create(personas, org)["id"]
    second = create(personas, org, owner_unit_id=org.bureau.pk)["id"]
    SupervisedItem.objects.filter(pk=second).update(light=Light.RED)
    sam = api(personas["sam"])

    def ids(query):
        response = sam.get(f"{ITEMS}?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids("") == [second, first]
    assert ids("light=red") == [second]
    assert ids("light=green") == [first]
    assert ids(f"unit={org.office.pk}") == [first]
    assert ids("state=closed") == []
    assert sam.get(f"{ITEMS}?light=blue").status_code == 400
    assert [r["id"] for r in api(personas["leo"]).get(ITEMS).json()["results"]] == [first]


def test_list_query_count_does_not_grow(org, personas, django_assert_max_num_queries):
    sam = api(personas["sam"])
    create(personas, org, milestones=[{"title": "m", "due": iso(timedelta(days=5))}])
    with CaptureQueriesContext(connection) as ctx:
        assert sam.get(ITEMS).status_code == 200
    budget = len(ctx.captured_queries)  # read now: later requests reset the query log
    for index in range(6):
        create(
            personas,
            org,
            owner_unit_id=org.bureau.pk if index % 2 else org.office.pk,
            milestones=[{"title": f"m{index}", "due": iso(timedelta(days=5))}],
        )
    with django_assert_max_num_queries(budget):
        response = sam.get(ITEMS)
    assert len(response.json()["results"]) == 7
    pk = next(r["id"] for r in response.json()["results"] if r["owner_unit"]["id"] == org.office.pk)
    leo = api(personas["leo"])
    for _ in range(2):
        leo.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 10})
    with CaptureQueriesContext(connection) as ctx:
        assert sam.get(f"{ITEMS}{pk}/progress/").status_code == 200
    budget = len(ctx.captured_queries)
    for _ in range(5):
        leo.post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 20})
    with django_assert_max_num_queries(budget):
        assert len(sam.get(f"{ITEMS}{pk}/progress/").json()["results"]) == 7


def test_urge_is_idempotent_with_a_key(org, personas):
    pk = create(personas, org)["id"]
    sam = api(personas["sam"])
    # A fresh key: with REDIS_URL the records outlive the test database.
    headers = {"HTTP_IDEMPOTENCY_KEY": f"urge-{uuid.uuid4()}"}
    first = sam.post(f"{ITEMS}{pk}/urge/", {}, format="json", **headers)
    second = sam.post(f"{ITEMS}{pk}/urge/", {}, format="json", **headers)
    assert first.json() == second.json()
    assert Urge.objects.count() == 1
    assert Notification.objects.filter(kind="supervision").count() == 2  # leo and bob


def test_escalation_is_capped_and_safe_to_run_twice(org, personas, settings):
    settings.GOVDESK_SUPERVISION_MAX_ESCALATIONS = 2
    settings.GOVDESK_SUPERVISION_ESCALATION_INTERVAL_HOURS = 24
    pk = create(personas, org)["id"]
    now = timezone.now()
    SupervisedItem.objects.filter(pk=pk).update(
        created_at=now - timedelta(days=10), deadline=now - timedelta(hours=1)
    )
    assert refresh_supervision_lights() == 1
    assert actions.refresh_item(pk, now)["escalated"] is False  # the same run again
    item = SupervisedItem.objects.get(pk=pk)
    assert (item.light, item.escalations) == ("red", 1)
    notes = Notification.objects.filter(
        kind="supervision", dedup_key__startswith="supervision_escalation"
    )
    assert [n.recipient.username for n in notes] == ["leo"]  # leaders only, not the clerk
    assert actions.refresh_item(pk, now + timedelta(hours=25))["escalated"] is True
    assert actions.refresh_item(pk, now + timedelta(hours=50))["escalated"] is False  # capped
    assert SupervisedItem.objects.get(pk=pk).escalations == 2
    assert notes.all().count() == 2  # a fresh query: the list above cached the first one
    assert AuditEvent.objects.filter(action="supervision.escalated").count() == 2
    changes = AuditEvent.objects.filter(action="supervision.light_changed")
    assert [e.detail for e in changes] == [{"from": "green", "to": "red"}]


def test_progress_recomputes_the_light(org, personas):
    pk = create(personas, org)["id"]
    now = timezone.now()
    # 80 % of the working time used, nothing reported: yellow once the beat runs.
    SupervisedItem.objects.filter(pk=pk).update(
        created_at=now - timedelta(days=80), deadline=now + timedelta(days=20)
    )
    actions.refresh_item(pk)
    assert SupervisedItem.objects.get(pk=pk).light == "yellow"
    api(personas["leo"]).post(f"{ITEMS}{pk}/progress/", {"text": "x", "percent": 95})
    assert SupervisedItem.objects.get(pk=pk).light == "green"
