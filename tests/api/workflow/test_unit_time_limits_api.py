"""A unit's document time limits over HTTP (docs/workflow.md#document-time-limits):
set by its admin, inherited below, used by the next submission, audited."""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def url(unit) -> str:
    return f"/api/v1/units/{unit.pk}/time-limits/"


def test_an_admin_sets_limits_that_the_units_below_inherit(org, personas, settings):
    settings.GOVDESK_DEADLINE_ORDINARY_DAYS = 1
    alice, ivy = client_for(personas["alice"]), client_for(personas["ivy"])
    body = alice.get(url(org.office)).json()
    assert body == {
        "unit": org.office.pk,
        "in_force": {"ordinary_days": 1.0, "countersign_days": 3.0},
        "rows": [],
    }
    response = ivy.put(url(org.city), {"ordinary_days": 2, "countersign_days": 5}, format="json")
    assert response.status_code == 200, response.content
    # the office inherits the city's row
    assert alice.get(url(org.office)).json()["in_force"] == {
        "ordinary_days": 2.0,
        "countersign_days": 5.0,
    }
    response = alice.put(
        url(org.office),
        {"doc_type": "notice", "ordinary_days": "1.5", "countersign_days": 3},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [r["doc_type"] for r in response.json()["rows"]] == ["notice"]
    assert response.json()["in_force"]["ordinary_days"] == 2.0  # every type: still the city's
    assert alice.delete(url(org.office) + "?doc_type=notice").status_code == 204
    assert alice.delete(url(org.office) + "?doc_type=notice").status_code == 404
    assert alice.delete(url(org.office) + "?doc_type=memo").status_code == 400
    actions = list(
        AuditEvent.objects.filter(action__startswith="workflow.time_limit").values_list(
            "action", "result"
        )
    )
    assert actions == [
        ("workflow.time_limit_set", "success"),
        ("workflow.time_limit_set", "success"),
        ("workflow.time_limit_removed", "success"),
    ]


def test_a_member_who_is_no_admin_is_refused_and_recorded(org, personas):
    response = client_for(personas["bob"]).put(
        url(org.office), {"ordinary_days": 2, "countersign_days": 4}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="workflow.time_limit_set", result="denied").exists()
    unknown = client_for(personas["bob"]).put(
        url(org.office), {"ordinary_days": 2, "countersign_days": 4, "x": 1}, format="json"
    )
    assert unknown.status_code == 400
