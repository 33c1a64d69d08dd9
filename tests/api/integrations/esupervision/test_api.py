"""The e-supervision API: per-unit figures, scoping like the statistics, query counts,
and the figures in each unit's statistics row (docs/integrations.md#e-supervision)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.audit.models import AuditEvent
from tests.api.integrations.esupervision.conftest import event, march
from tests.personas import client_for, make_unit

BASE = "/api/v1/integrations/esupervision/units/"
YEAR = "from=2026-01-01&to=2026-12-31"


@pytest.fixture
def items(org, personas, send):
    send(
        # SP-1 (office): one day per stage, completed in 4 of 5 days — on time, 预警.
        event("A1", "accept", march(2, 10)),
        event("A2", "handle", march(3, 10)),
        event("A3", "review", march(4, 10)),
        event("A4", "approve", march(5, 10)),
        event("A5", "complete", march(6, 10)),
        # SP-2 (office): completed 5 days + 1 hour after acceptance — late, 红牌.
        event("B1", "accept", march(2, 10), item="SP-2"),
        event("B2", "complete", march(9, 11), item="SP-2"),
        # SP-3 (office): open.
        event("C1", "accept", march(10, 10), item="SP-3"),
        # SP-4 (bureau): on time.
        event("D1", "accept", march(2, 10), item="SP-4", unit_code="C-DRC"),
        event("D2", "complete", march(3, 10), item="SP-4", unit_code="C-DRC"),
    )


def test_unit_figures(org, personas, items):
    response = client_for(personas["sam"]).get(f"{BASE}{org.office.pk}/?{YEAR}")
    assert response.status_code == 200
    row = response.json()
    assert row["unit"] == {"id": org.office.pk, "name": org.office.name}
    assert (row["from"], row["to"]) == ("2026-01-01", "2026-12-31")
    assert (row["items"], row["on_time"], row["late"], row["on_time_rate"]) == (2, 1, 1, 0.5)
    # Stage averages over the items whose stage time is known (SP-2 has none).
    assert row["average_days"] == {
        "accept": 1.0,
        "handle": 1.0,
        "review": 1.0,
        "approve": 1.0,
        "total": round((4 + 5 + 1 / 24) / 2, 2),
    }
    assert (row["open"], row["open_over_limit"]) == (1, 0)
    assert (row["alerts_notice"], row["alerts_yellow"], row["alerts_red"]) == (2, 1, 1)
    assert AuditEvent.objects.filter(
        action="esupervision.queried", actor_id=personas["sam"].pk
    ).exists()


def test_a_period_without_completions(org, personas, items):
    row = client_for(personas["sam"]).get(f"{BASE}{org.office.pk}/?from=2025-01-01&to=2025-12-31")
    data = row.json()
    assert (data["items"], data["on_time_rate"], data["open"]) == (0, None, 1)
    assert data["average_days"]["total"] is None


def test_units_list_is_scoped_like_the_statistics(org, personas, items):
    sam = client_for(personas["sam"]).get(f"{BASE}?{YEAR}").json()["results"]
    assert {r["unit"]["id"] for r in sam} >= {org.city.pk, org.office.pk, org.bureau.pk}
    by_id = {r["unit"]["id"]: r for r in sam}
    assert by_id[org.bureau.pk]["items"] == 1
    leo = client_for(personas["leo"]).get(f"{BASE}?{YEAR}").json()["results"]
    assert [r["unit"]["id"] for r in leo] == [org.office.pk]


def test_another_units_data_is_404_and_recorded(org, personas, items):
    leo = client_for(personas["leo"])
    for path in (f"{BASE}{org.bureau.pk}/", f"{BASE}{org.bureau.pk}/items/"):
        response = leo.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert AuditEvent.objects.filter(
        action="stats.read", actor_id=personas["leo"].pk, result="denied"
    ).exists()


def test_people_without_a_stats_role_are_refused(org, personas):
    response = client_for(personas["bob"]).get(BASE)
    assert response.status_code == 403


def test_unit_items(org, personas, items):
    sam = client_for(personas["sam"])
    results = sam.get(f"{BASE}{org.office.pk}/items/").json()["results"]
    assert [r["item_id"] for r in results] == ["SP-3", "SP-2", "SP-1"]
    late = results[1]
    assert late["level"] == "red" and late["on_time"] is False
    assert [a["level"] for a in late["alerts"]] == ["red", "yellow", "notice"]
    assert all(a["supervised_item_id"] for a in late["alerts"])
    assert late["times"]["handle"] is None
    assert results[2]["stage_seconds"]["accept"] == 86_400
    open_only = sam.get(f"{BASE}{org.office.pk}/items/?state=open").json()["results"]
    assert [r["item_id"] for r in open_only] == ["SP-3"]
    done = sam.get(f"{BASE}{org.office.pk}/items/?state=completed").json()["results"]
    assert [r["item_id"] for r in done] == ["SP-2", "SP-1"]


def test_bad_period(org, personas):
    response = client_for(personas["sam"]).get(f"{BASE}?from=2026-02-01&to=2026-01-01")
    assert response.status_code == 400
    response = client_for(personas["sam"]).get(f"{BASE}?from=2020-01-01&to=2026-01-01")
    assert response.status_code == 400


def test_units_list_query_count(org, personas, send, django_assert_max_num_queries):
    sam = client_for(personas["sam"])
    with CaptureQueriesContext(connection) as ctx:
        assert sam.get(f"{BASE}?{YEAR}").status_code == 200
    budget = len(ctx.captured_queries)
    for number in range(6):
        unit = make_unit(f"委办局{number}", "bureau", org.city, code=f"C-B{number}")
        for index in range(3):
            name = f"SP-{number}-{index}"
            send(
                event(f"{name}a", "accept", march(2, 10), item=name, unit_code=unit.code),
                event(f"{name}b", "complete", march(9 + index, 11), item=name, unit_code=unit.code),
            )
    with django_assert_max_num_queries(budget):
        rows = sam.get(f"{BASE}?{YEAR}").json()["results"]
    assert sum(r["items"] for r in rows) == 18


def test_unit_items_query_count(org, personas, send, django_assert_max_num_queries):
    sam = client_for(personas["sam"])
    send(event("X1", "accept", march(2, 10), item="SP-X"))
    with CaptureQueriesContext(connection) as ctx:
        assert sam.get(f"{BASE}{org.office.pk}/items/").status_code == 200
    budget = len(ctx.captured_queries)
    for index in range(8):
        name = f"SP-{index}"
        send(
            event(f"{name}a", "accept", march(2, 10), item=name),
            event(f"{name}b", "complete", march(9, 11), item=name),
        )
    with django_assert_max_num_queries(budget):
        results = sam.get(f"{BASE}{org.office.pk}/items/").json()["results"]
    assert len(results) == 9


def test_the_figures_enter_each_units_statistics_row(org, personas, items):
    row = client_for(personas["sam"]).get(f"/api/v1/stats/units/{org.office.pk}/?{YEAR}").json()
    assert row["esupervision"]["items"] == 2
    assert row["esupervision"]["on_time_rate"] == 0.5


def test_the_schema_describes_the_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/integrations/esupervision/units/" in schema["paths"]
    assert "esupervision" in schema["components"]["schemas"]["UnitStats"]["properties"]
