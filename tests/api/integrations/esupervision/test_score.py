"""The e-supervision late rate in the unit efficiency score (docs/supervision.md#the-score,
docs/integrations.md#e-supervision)."""

from __future__ import annotations

from datetime import datetime

from api.stats import compute
from api.workdays.deadlines import TZ
from tests.api.integrations.esupervision.conftest import event
from tests.api.stats.conftest import PERIOD, stats_fixture  # noqa: F401 - a fixture
from tests.personas import client_for

W = compute.Weights(overdue=60, returned=20, slow=20, slow_hours=12)


def test_score_deducts_the_weighted_late_rate():
    figures = compute.Figures(items=4, extra={"esupervision": (1, 4)})
    weights = compute.Weights(60, 20, 20, 12, contributed=(("esupervision", 10),))
    assert compute.score(figures, W) == 100.0
    assert compute.score(figures, weights) == 97.5
    # No completed service items: no deduction.
    assert compute.score(compute.Figures(items=4, extra={"esupervision": (0, 0)}), weights) == 100


def test_score_never_goes_below_zero():
    figures = compute.Figures(items=1, overdue_handled=1, returned=1, slow=1)
    figures.extra["esupervision"] = (1, 1)
    weights = compute.Weights(60, 20, 20, 12, contributed=(("esupervision", 10),))
    assert compute.score(figures, weights) == 0.0


def test_the_weight_is_a_setting(settings):
    settings.GOVDESK_STATS_WEIGHT_ESUPERVISION = 25
    assert compute.Weights.from_settings().contributed == (("esupervision", 25),)
    assert "25×电子监察超期率" in compute.formula(compute.Weights.from_settings())


def test_the_office_score_with_its_service_items(stats_fixture, org, personas, send):  # noqa: F811
    sam = client_for(personas["sam"])
    query = f"from={PERIOD['from']}&to={PERIOD['to']}"
    before = sam.get(f"/api/v1/stats/units/{org.office.pk}/?{query}").json()
    at = lambda day, hour: datetime(2025, 10, day, hour, tzinfo=TZ)  # noqa: E731
    send(
        # 1 working day limit: one completed exactly at it, one an hour late.
        event("S1", "accept", at(13, 9), item="SP-A", limit=1),
        event("S2", "complete", at(14, 9), item="SP-A", limit=1),
        event("S3", "accept", at(13, 9), item="SP-B", limit=1),
        event("S4", "complete", at(14, 10), item="SP-B", limit=1),
    )
    row = sam.get(f"/api/v1/stats/units/{org.office.pk}/?{query}").json()
    assert row["esupervision"]["items"] == 2 and row["esupervision"]["late"] == 1
    assert row["contributed_components"] == [
        {"key": "esupervision", "weight": 10, "count": 1, "base": 2, "rate": 0.5, "deduction": 5.0}
    ]
    assert row["score"] == round(before["score"] - 5.0, 1)
    assert "10×电子监察超期率" in row["formula"]
