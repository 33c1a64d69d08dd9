"""Stage times and alert thresholds of e-supervision (docs/integrations.md#e-supervision)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.integrations.esupervision import rules

DAY = 86_400
T = rules.Thresholds(notice_percent=80, red_days=3)


@pytest.mark.parametrize(
    ("used", "completed", "level"),
    [
        (0, False, ""),
        (4 * DAY - 1, False, ""),
        (4 * DAY, False, "notice"),  # exactly 80 % of 5 days
        (5 * DAY, False, "notice"),  # at the limit is not over it
        (5 * DAY + 1, False, "yellow"),
        (8 * DAY, False, "yellow"),  # over by exactly 3 days: still yellow
        (8 * DAY + 1, False, "red"),
        (4 * DAY, True, "notice"),
        (5 * DAY, True, "notice"),  # completed at the limit: on time
        (5 * DAY + 1, True, "red"),  # completed over the limit
    ],
)
def test_level_of(used, completed, level):
    assert rules.level_of(used, 5, completed=completed, thresholds=T) == level


def test_thresholds_are_settings(settings):
    settings.GOVDESK_ESUPERVISION_NOTICE_PERCENT = 50
    settings.GOVDESK_ESUPERVISION_RED_DAYS = 0
    thresholds = rules.Thresholds.from_settings()
    assert rules.level_of(5 * DAY // 2, 5, completed=False, thresholds=thresholds) == "notice"
    assert rules.level_of(5 * DAY + 1, 5, completed=False, thresholds=thresholds) == "red"


def test_levels_are_cumulative():
    assert rules.levels_up_to("") == ()
    assert rules.levels_up_to("notice") == ("notice",)
    assert rules.levels_up_to("red") == ("notice", "yellow", "red")
    assert rules.higher("red", "notice") == "red"
    assert rules.higher("", "yellow") == "yellow"


def test_furthest_stage_ignores_gaps():
    at = datetime(2026, 3, 2, 10)
    assert rules.furthest_stage({}) == ""
    assert rules.furthest_stage({"accept": at, "review": at}) == "review"
    assert rules.furthest_stage({"complete": at}) == "complete"


def test_stage_seconds_need_both_ends():
    at = datetime(2026, 3, 2, 10)

    def seconds(a, b):
        return int((b - a).total_seconds())

    times = {"accept": at, "handle": at + timedelta(hours=2), "approve": at + timedelta(hours=5)}
    assert rules.stage_seconds(times, seconds) == {
        "accept": 7200,
        "handle": None,  # review missing: its end is unknown
        "review": None,
        "approve": None,  # complete missing
    }
