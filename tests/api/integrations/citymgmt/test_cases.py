"""City management cases: idempotent by case id (a newer version wins, an older one never
overwrites it), the figures, the stats API's scope and the leaders' dashboard block.
Docs: docs/integrations.md#city-management."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from api.integrations.citymgmt.cases import InvalidCase, apply_case, parse_case, source_id_of
from api.integrations.citymgmt.models import CityCase
from api.portal.selectors import dashboard_block
from tests.personas import client_for

pytestmark = pytest.mark.django_db
STATS = "/api/v1/integrations/citymgmt/stats/"


def case(case_id: str, version: int = 1, **fields) -> dict:
    now = timezone.localtime(timezone.now())
    return {
        "id": case_id,
        "version": version,
        "category": "市容环境",
        "district": "东区",
        "state": "handling",
        "reported_at": (now - timedelta(days=2)).isoformat(),
        "deadline_at": (now + timedelta(days=1)).isoformat(),
        "closed_at": None,
        "updated_at": now.isoformat(),
        **fields,
    }


def apply(payload: dict) -> str:
    return apply_case(source_id_of(payload), payload)


def test_a_newer_version_replaces_an_older_one_never_the_reverse():
    assert apply(case("CG1", 1)) == "created"
    assert apply(case("CG1", 1)) == "stale"  # the same version again: nothing changes
    assert apply(case("CG1", 3, state="closed", closed_at=timezone.now().isoformat())) == "updated"
    assert apply(case("CG1", 2, state="dispatched")) == "stale"  # late and older
    stored = CityCase.objects.get(case_id="CG1")
    assert (stored.version, stored.state) == (3, "closed")
    assert CityCase.objects.count() == 1


def test_source_id_names_the_version():
    assert source_id_of(case("CG7", 4)) == "CG7@4"


@pytest.mark.parametrize(
    "broken",
    [
        {"version": 0},
        {"version": True},
        {"state": "lost"},
        {"reported_at": "yesterday"},
        {"reported_at": "2026-12-01T08:00:00"},  # no offset
        {"category": ""},
        {"id": "x" * 65},
    ],
)
def test_a_case_breaking_the_contract_is_refused(broken):
    with pytest.raises(InvalidCase):
        parse_case(case("CG9", **broken))


def seed_figures(now: datetime) -> None:
    past, future = (now - timedelta(hours=1)).isoformat(), (now + timedelta(days=1)).isoformat()
    rows = [
        ("A1", "市容环境", "东区", "handling", past, None),  # open, overdue
        ("A2", "市容环境", "东区", "dispatched", future, None),  # open, in time
        ("A3", "市容环境", "西区", "closed", past, now.isoformat()),  # closed late
        ("A4", "街面秩序", "西区", "closed", future, now.isoformat()),  # closed in time
        ("A5", "街面秩序", "西区", "reported", past, None),  # open, overdue
        ("A6", "施工管理", "东区", "cancelled", past, None),  # cancelled: not overdue
    ]
    for case_id, category, district, state, deadline, closed in rows:
        apply(
            case(
                case_id,
                category=category,
                district=district,
                state=state,
                deadline_at=deadline,
                closed_at=closed,
            )
        )


def test_figures_by_category_district_state_and_overdue(personas):
    seed_figures(timezone.now())
    body = client_for(personas["leo"]).get(STATS).json()
    assert (body["total"], body["open"], body["overdue"]) == (6, 3, 2)
    assert (body["closed"], body["closed_late"]) == (2, 1)
    states = {row["state"]: row["count"] for row in body["by_state"]}
    assert states["closed"] == 2 and states["cancelled"] == 1 and states["verifying"] == 0
    categories = {row["category"]: row for row in body["by_category"]}
    assert categories["市容环境"] == {"category": "市容环境", "total": 3, "open": 2, "overdue": 1}
    assert categories["施工管理"]["overdue"] == 0
    assert [row["district"] for row in body["by_district"]] == ["东区", "西区"]
    assert body["by_district"][1] == {"district": "西区", "total": 3, "open": 1, "overdue": 1}


def test_only_leaders_and_supervisors_read_city_figures(personas):
    from api.audit.models import AuditEvent

    assert client_for(personas["sam"]).get(STATS).status_code == 200
    assert client_for(personas["leo"]).get(STATS).status_code == 200
    for name in ("charlie", "alice", "ivy"):
        response = client_for(personas[name]).get(STATS)
        assert response.status_code == 403, name
        assert response.json()["error"]["code"] == "permission_denied"
    assert client_for(None).get(STATS).status_code == 401
    assert AuditEvent.objects.filter(action="citymgmt.stats", result="denied").count() == 3


def test_stats_queries_do_not_grow_with_cases(personas, django_assert_max_num_queries):
    client = client_for(personas["leo"])
    seed_figures(timezone.now())
    with django_assert_max_num_queries(8) as few:
        client.get(STATS)
    for i in range(30):
        apply(case(f"B{i}", category=f"类别{i % 7}", district=f"区{i % 5}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(STATS)


def test_leaders_dashboard_shows_city_figures_and_staff_sees_none(personas, settings):
    settings.GOVDESK_PORTAL_DASHBOARD_SECONDS = 0
    seed_figures(timezone.now())
    leo = client_for(personas["leo"]).get("/api/v1/portal/").json()
    city = leo["dashboard"]["city_management"]
    assert (city["open"], city["overdue"], city["closed"]) == (3, 2, 2)
    assert city["by_category"][0] == {"category": "市容环境", "open": 2, "overdue": 1}
    assert len(city["by_district"]) == 2
    charlie = client_for(personas["charlie"]).get("/api/v1/portal/").json()
    assert charlie["dashboard"] is None


def test_dashboard_city_figures_are_cached(personas, settings, django_assert_max_num_queries):
    from django.core.cache import cache

    from api.integrations.citymgmt.selectors import DASHBOARD_KEY, dashboard_figures

    settings.GOVDESK_PORTAL_DASHBOARD_SECONDS = 60
    cache.delete(DASHBOARD_KEY)
    seed_figures(timezone.now())
    first = dashboard_figures()
    apply(case("LATE", deadline_at=(timezone.now() - timedelta(hours=2)).isoformat()))
    # One cache read at most (the database cache table when there is no Redis).
    with django_assert_max_num_queries(1):
        assert dashboard_figures() == first  # invalidated by time only
    cache.delete(DASHBOARD_KEY)
    assert dashboard_figures()["overdue"] == first["overdue"] + 1
    assert dashboard_block(personas["charlie"], timezone.now()) is None
