"""Access requests: request, approve or refuse by the owner unit's admin, who sees
what, idempotency, the catalogue and log lists with their query budgets.
Docs: docs/integrations.md#base-data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.audit.models import AuditEvent
from api.integrations.basedata.models import AccessRequest, QueryLog
from api.notify.models import Notification
from tests.api.integrations.basedata.conftest import POPULATION, grant
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db
BASE = "/api/v1/integrations/basedata/"
REQUESTS = BASE + "access-requests/"


def api(user):
    client = client_for(user)
    client.default_format = "json"
    return client


def ask(client, dataset, headers=None, **extra):
    today = timezone.localdate()
    body = {
        "dataset_id": dataset.pk,
        "purpose": "核查低保申请人的户籍信息",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(),
        **extra,
    }
    return client.post(REQUESTS, body, headers=headers)


def test_request_then_approve_then_query(personas, datasets, fake):
    dataset = datasets[POPULATION]
    charlie, alice = personas["charlie"], personas["alice"]
    created = ask(api(charlie), dataset)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending" and body["in_force"] is False
    assert body["requester"] == {"id": charlie.pk, "display_name": charlie.display_name}
    assert body["unit"]["id"] == charlie.unit_id
    # The owner unit's admin hears of it.
    assert Notification.objects.filter(recipient=alice, dedup_key__startswith="basedata_").exists()
    # Before the decision the query is refused.
    query = BASE + f"datasets/{dataset.pk}/query/"
    assert api(charlie).post(query, {}).status_code == 403
    # Alice sees it among the requests to decide and approves.
    listed = api(alice).get(REQUESTS + "?scope=to_decide&status=pending").json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    approved = api(alice).post(REQUESTS + f"{body['id']}/approve/", {"reason": "同意"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved" and approved.json()["in_force"] is True
    assert approved.json()["decided_by"]["id"] == alice.pk
    assert AuditEvent.objects.filter(action="basedata.access_approved", actor_id=alice.pk).exists()
    assert Notification.objects.filter(
        recipient=charlie, dedup_key__startswith="basedata_"
    ).exists()
    # Approving twice: 409.
    again = api(alice).post(REQUESTS + f"{body['id']}/approve/", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "basedata_request_decided"
    # Now the query goes through, masked.
    response = api(charlie).post(query, {"limit": 1})
    assert response.status_code == 200
    assert response.json()["rows"][0]["id_number"][3:14] == "*" * 11
    detail = api(charlie).get(BASE + f"datasets/{dataset.pk}/").json()
    assert detail["my_grant"]["id"] == body["id"]


def test_refuse_needs_a_reason_and_leaves_no_grant(personas, datasets, fake):
    dataset = datasets[POPULATION]
    created = ask(api(personas["charlie"]), dataset).json()
    alice = api(personas["alice"])
    assert alice.post(REQUESTS + f"{created['id']}/refuse/", {}).status_code == 400
    refused = alice.post(REQUESTS + f"{created['id']}/refuse/", {"reason": "用途不明确"})
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    assert refused.json()["decision_reason"] == "用途不明确"
    assert AuditEvent.objects.filter(action="basedata.access_refused").exists()
    query = BASE + f"datasets/{dataset.pk}/query/"
    assert api(personas["charlie"]).post(query, {}).status_code == 403
    # Refused, a new request may be filed.
    assert ask(api(personas["charlie"]), dataset).status_code == 201


def test_only_the_owner_units_admin_decides(personas, org, datasets):
    dataset = datasets[POPULATION]
    created = ask(api(personas["charlie"]), dataset).json()
    url = REQUESTS + f"{created['id']}/approve/"
    # Another unit's admin, the city IT admin, a clerk of the owner unit: the request is
    # not theirs to see (404, recorded).
    for name in ("dana", "ivy", "bob", "sam"):
        response = api(personas[name]).post(url, {})
        assert response.status_code == 404, name
        assert api(personas[name]).get(REQUESTS + f"{created['id']}/").status_code == 404
    assert AuditEvent.objects.filter(action="basedata.approve", result="denied").count() == 4
    # The requester sees their request but may not decide it.
    response = api(personas["charlie"]).post(url, {})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "basedata_not_owner")
    # An admin of a parent unit covers the owner unit.
    city_admin = make_user("cora", org.city, "unit_admin")
    assert api(city_admin).post(url, {}).status_code == 200


def test_nobody_approves_their_own_request(personas, datasets):
    created = ask(api(personas["alice"]), datasets[POPULATION]).json()
    response = api(personas["alice"]).post(REQUESTS + f"{created['id']}/approve/", {})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "self_approval")


def test_one_pending_request_per_person_and_dataset_and_idempotency(personas, datasets):
    dataset = datasets[POPULATION]
    client = api(personas["charlie"])
    first = ask(client, dataset, access_level="unmasked")
    assert first.status_code == 201 and first.json()["access_level"] == "unmasked"
    second = ask(client, dataset)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "basedata_request_pending"
    assert second.json()["error"]["request_id"] == first.json()["id"]
    # A phone's retry with the same Idempotency-Key gets the first answer again.
    other = datasets["macro_economy.monthly_indicators"]
    keyed = ask(client, other, headers={"Idempotency-Key": "basedata-test-key-1"})
    replay = ask(client, other, headers={"Idempotency-Key": "basedata-test-key-1"})
    assert keyed.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == keyed.json()["id"]
    assert AccessRequest.objects.filter(dataset=other).count() == 1


def test_request_period_is_checked(personas, datasets):
    dataset = datasets[POPULATION]
    client = api(personas["charlie"])
    today = timezone.localdate()
    past = ask(client, dataset, starts_on=(today - timedelta(days=1)).isoformat())
    assert past.status_code == 400 and "starts_on" in past.json()["error"]["fields"]
    backwards = ask(client, dataset, ends_on=(today - timedelta(days=1)).isoformat())
    assert backwards.status_code == 400 and "ends_on" in backwards.json()["error"]["fields"]
    too_long = ask(client, dataset, ends_on=(today + timedelta(days=400)).isoformat())
    assert too_long.status_code == 400
    assert ask(client, dataset, dataset_id=999999).status_code == 404
    assert ask(client, dataset, owner="me").status_code == 400


def test_a_retired_dataset_takes_no_requests(personas, datasets):
    dataset = datasets[POPULATION]
    dataset.active = False
    dataset.save(update_fields=["active"])
    response = ask(api(personas["charlie"]), dataset)
    assert (response.status_code, response.json()["error"]["code"]) == (
        409,
        "basedata_dataset_retired",
    )


def test_list_endpoints_keep_their_query_budget(
    personas, org, datasets, fake, django_assert_max_num_queries
):
    population = datasets[POPULATION]
    alice = api(personas["alice"])
    people = [make_user(f"p{i}", org.bureau, "staff") for i in range(2)]
    for person in people:
        grant(population, person)
        api(person).post(BASE + f"datasets/{population.pk}/query/", {})

    def measure(url: str, client=alice) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    budgets = {url: measure(url) for url in (BASE + "datasets/", REQUESTS, BASE + "query-logs/")}
    more = [make_user(f"q{i}", org.bureau, "staff") for i in range(4)]
    for person in more:
        grant(population, person)
        grant(datasets["macro_economy.monthly_indicators"], person)
        api(person).post(BASE + f"datasets/{population.pk}/query/", {})
    assert QueryLog.objects.count() == 6
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            response = alice.get(url)
        assert response.status_code == 200
    assert len(alice.get(REQUESTS).json()["results"]) == 10
    assert len(alice.get(BASE + "query-logs/").json()["results"]) == 6


def test_who_sees_requests_and_logs(personas, org, datasets, fake):
    population = datasets[POPULATION]
    grant(population, personas["charlie"])
    api(personas["charlie"]).post(BASE + f"datasets/{population.pk}/query/", {})
    api(personas["bob"]).post(BASE + f"datasets/{population.pk}/query/", {})  # refused
    ask(api(personas["charlie"]), datasets["macro_economy.monthly_indicators"])
    # charlie: his own request and queries; dana (another unit's admin): nothing.
    assert len(api(personas["charlie"]).get(REQUESTS).json()["results"]) == 2
    assert len(api(personas["charlie"]).get(BASE + "query-logs/").json()["results"]) == 1
    assert api(personas["dana"]).get(REQUESTS).json()["results"] == []
    assert api(personas["dana"]).get(BASE + "query-logs/").json()["results"] == []
    # alice (the owner unit's admin): every query of her unit's datasets.
    logs = api(personas["alice"]).get(BASE + "query-logs/?outcome=refused").json()["results"]
    assert [(log["user"]["id"], log["code"]) for log in logs] == [
        (personas["bob"].pk, "basedata_no_grant")
    ]
    assert AuditEvent.objects.filter(action="basedata.log_viewed").count() >= 1
    # Everyone signed in reads the catalogue.
    listed = api(personas["dana"]).get(BASE + "datasets/?database=population").json()["results"]
    assert [d["source_id"] for d in listed] == [POPULATION]
    assert listed[0]["my_grant"] is None
    assert {f["name"]: f["personal"] for f in listed[0]["fields"]}["id_number"] is True


def test_the_owner_revokes_a_grant(personas, datasets, fake):
    dataset = datasets[POPULATION]
    held = grant(dataset, personas["charlie"])
    query = BASE + f"datasets/{dataset.pk}/query/"
    assert api(personas["charlie"]).post(query, {}).status_code == 200
    url = REQUESTS + f"{held.pk}/revoke/"
    assert api(personas["charlie"]).post(url, {"reason": "x"}).status_code == 403
    assert api(personas["dana"]).post(url, {"reason": "x"}).status_code == 404
    assert api(personas["alice"]).post(url, {}).status_code == 400
    revoked = api(personas["alice"]).post(url, {"reason": "核查工作已结束"})
    assert revoked.status_code == 200
    assert (revoked.json()["status"], revoked.json()["in_force"]) == ("revoked", False)
    assert AuditEvent.objects.filter(action="basedata.access_revoked").exists()
    response = api(personas["charlie"]).post(query, {})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "basedata_no_grant")
    again = api(personas["alice"]).post(url, {"reason": "again"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "basedata_not_granted")
