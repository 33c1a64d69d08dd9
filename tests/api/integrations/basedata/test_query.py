"""The proxy query: grants enforced, personal fields masked, every query logged and
audited, the row cap, platform failures. Docs: docs/integrations.md#base-data."""

from __future__ import annotations

import re

import pytest

from api.audit.models import AuditEvent
from api.integrations.basedata.models import QueryLog
from tests.api.integrations.basedata.conftest import POPULATION, grant
from tests.personas import client_for

pytestmark = pytest.mark.django_db
ID_MASKED = re.compile(r"^\d{3}\*{11}[\dX]{4}$")
PHONE_MASKED = re.compile(r"^1\d{2}\*{4}\d{4}$")


def query_url(dataset) -> str:
    return f"/api/v1/integrations/basedata/datasets/{dataset.pk}/query/"


def api(user):
    client = client_for(user)
    client.default_format = "json"
    return client


def test_a_query_without_a_grant_is_refused_logged_and_audited(personas, datasets, fake):
    dataset = datasets[POPULATION]
    charlie = personas["charlie"]
    response = api(charlie).post(
        query_url(dataset), {"parameters": {"id_number": "110101199003071234"}}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "basedata_no_grant"
    assert fake.queries == []  # the platform was never asked
    log = QueryLog.objects.get()
    assert (log.user, log.outcome, log.code) == (charlie, "refused", "basedata_no_grant")
    assert log.parameters == {"id_number": "110101199003071234"}
    event = AuditEvent.objects.filter(action="basedata.query").latest("id")
    assert event.result == "denied" and event.actor_id == charlie.pk
    # The audit log keeps the looked-up ID number masked.
    assert event.detail["parameters"] == {"id_number": "110***********1234"}


def test_with_a_grant_personal_fields_are_masked(personas, datasets, fake):
    dataset = datasets[POPULATION]
    charlie = personas["charlie"]
    held = grant(dataset, charlie)
    response = api(charlie).post(query_url(dataset), {"limit": 5})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["access_level"] == "masked" and body["rows_returned"] == 5
    assert body["truncated"] is True  # the fake has 60 residents
    assert [f["name"] for f in body["fields"]] == [f["name"] for f in dataset.fields]
    raw = {row["id_number"]: row for row in fake.rows[POPULATION]}
    for row in body["rows"]:
        assert ID_MASKED.match(row["id_number"]), row
        assert PHONE_MASKED.match(row["phone"]), row
        assert row["name"].endswith("*") and row["address"].endswith("****")
        assert row["gender"] in ("男", "女")  # not personal: as sent
    first = body["rows"][0]
    source = next(
        r
        for k, r in raw.items()
        if k[:3] + k[-4:] == first["id_number"][:3] + first["id_number"][-4:]
    )
    assert first["phone"] == source["phone"][:3] + "****" + source["phone"][-4:]
    log = QueryLog.objects.get(pk=body["query_id"])
    assert (log.outcome, log.rows_returned, log.grant_id, log.truncated) == ("ok", 5, held.pk, True)
    assert fake.queries[-1]["requested_by"] == {"user_id": charlie.pk, "unit_code": "C-DRC"}
    assert AuditEvent.objects.filter(action="basedata.queried", actor_id=charlie.pk).exists()


def test_an_unmasked_grant_returns_the_values_as_sent(personas, datasets, fake):
    dataset = datasets[POPULATION]
    person = fake.rows[POPULATION][3]
    grant(dataset, personas["charlie"], level="unmasked")
    response = api(personas["charlie"]).post(
        query_url(dataset), {"parameters": {"id_number": person["id_number"]}}
    )
    assert response.status_code == 200
    assert response.json()["rows"] == [person]


def test_an_expired_grant_is_refused(personas, datasets, fake):
    dataset = datasets[POPULATION]
    grant(dataset, personas["charlie"], start_offset=-10, days=5)
    response = api(personas["charlie"]).post(query_url(dataset), {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "basedata_grant_expired"
    assert fake.queries == []
    assert QueryLog.objects.get().code == "basedata_grant_expired"


def test_a_grant_not_started_yet_is_refused(personas, datasets, fake):
    grant(datasets[POPULATION], personas["charlie"], start_offset=2)
    response = api(personas["charlie"]).post(query_url(datasets[POPULATION]), {})
    assert response.json()["error"]["code"] == "basedata_grant_expired"


def test_a_grant_is_personal_and_for_its_unit(personas, org, datasets, fake):
    dataset = datasets[POPULATION]
    charlie = personas["charlie"]
    grant(dataset, charlie)
    # A colleague of the same unit holds no grant.
    from tests.personas import make_user

    colleague = make_user("carol", org.bureau, "staff")
    response = api(colleague).post(query_url(dataset), {})
    assert response.json()["error"]["code"] == "basedata_no_grant"
    # Moved to another unit, charlie's grant (for the bureau) no longer applies.
    charlie.unit = org.district
    charlie.save(update_fields=["unit"])
    response = api(charlie).post(query_url(dataset), {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "basedata_no_grant"


def test_refusal_message_in_english(personas, datasets, fake):
    response = api(personas["charlie"]).post(
        query_url(datasets[POPULATION]), {}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "grant" in response.json()["error"]["message"]
    response = api(personas["charlie"]).post(query_url(datasets[POPULATION]), {})
    assert "授权" in response.json()["error"]["message"]


def test_row_cap_and_parameters_are_checked(personas, datasets, fake, settings):
    dataset = datasets[POPULATION]
    grant(dataset, personas["charlie"])
    client = api(personas["charlie"])
    settings.GOVDESK_BASEDATA_MAX_ROWS = 10
    assert client.post(query_url(dataset), {"limit": 11}).status_code == 400
    response = client.post(query_url(dataset), {"limit": 10})
    assert response.json()["rows_returned"] == 10
    bad = client.post(query_url(dataset), {"parameters": {"shoe_size": "42"}})
    assert bad.status_code == 400
    assert "shoe_size" in bad.json()["error"]["fields"]["parameters"][0]
    wrong_type = client.post(query_url(dataset), {"parameters": {"name": 5}})
    assert wrong_type.status_code == 400
    assert client.post(query_url(dataset), {"parameters": {}, "sql": "1"}).status_code == 400


def test_platform_failures_are_logged_and_reported(personas, datasets, fake, monkeypatch):
    dataset = datasets[POPULATION]
    grant(dataset, personas["charlie"])
    client = api(personas["charlie"])
    fake.fail_next(1)
    response = client.post(query_url(dataset), {})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "basedata_unavailable"
    assert QueryLog.objects.latest("id").outcome == "failed"
    # Wrong secret: the platform answers 401, reported as an upstream error.
    monkeypatch.setenv("GOVDESK_INTEGRATION_BASEDATA_SECRET", "wrong")
    assert client.post(query_url(dataset), {}).json()["error"]["code"] == "basedata_upstream_error"
    monkeypatch.delenv("GOVDESK_INTEGRATION_BASEDATA_URL")
    response = client.post(query_url(dataset), {})
    assert (response.status_code, response.json()["error"]["code"]) == (
        503,
        "basedata_not_configured",
    )
    assert client.post(query_url(dataset), {}).status_code == 503  # and it stays so
    assert QueryLog.objects.filter(outcome="failed").count() == 4


def test_unknown_dataset_is_404(personas, fake):
    response = api(personas["charlie"]).post(
        "/api/v1/integrations/basedata/datasets/999999/query/", {}
    )
    assert response.status_code == 404
