"""Stage times and alert thresholds of e-supervision (电子监察), as pure functions.

Docs: docs/integrations.md#e-supervision. Time is the working clock of api/workdays
(whole working days count, weekends and holidays do not; the clock of an item starts
at its acceptance, never before 09:00 — ``api.workdays.deadlines.clock_start``).

* **Stage time**: a stage (受理, 承办, 审核, 批准) lasts from its event to the next
  stage's event, in working seconds; unknown while either event is missing.
* **Used**: working seconds from the clock start of acceptance to completion (办结), or,
  while the item is open, to the moment it is evaluated at.
* **预警 notice**: used ≥ ``GOVDESK_ESUPERVISION_NOTICE_PERCENT`` (80) % of the limit.
* **黄牌 yellow**: used > the limit.
* **红牌 red**: used > the limit + ``GOVDESK_ESUPERVISION_RED_DAYS`` (3) working days,
  or completed over the limit.
* Levels are cumulative: an item that reaches 红牌 has all three alerts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

DAY_SECONDS = 86_400
STAGES = ("accept", "handle", "review", "approve", "complete")
LEVELS = ("notice", "yellow", "red")


@dataclass(frozen=True)
class Thresholds:
    notice_percent: int = 80
    red_days: int = 3

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            notice_percent=settings.GOVDESK_ESUPERVISION_NOTICE_PERCENT,
            red_days=settings.GOVDESK_ESUPERVISION_RED_DAYS,
        )


def level_of(used: int, limit_days: int, *, completed: bool, thresholds: Thresholds) -> str:
    """The highest level reached ("" for none)."""
    limit = limit_days * DAY_SECONDS
    if used > limit + thresholds.red_days * DAY_SECONDS or (completed and used > limit):
        return "red"
    if used > limit:
        return "yellow"
    # Integer arithmetic: 80 % of a limit is exact, no float rounding at the threshold.
    if used * 100 >= limit * thresholds.notice_percent:
        return "notice"
    return ""


def levels_up_to(level: str) -> tuple[str, ...]:
    """Every level up to and including ``level`` (cumulative alerts)."""
    if not level:
        return ()
    return LEVELS[: LEVELS.index(level) + 1]


def higher(a: str, b: str) -> str:
    rank = {"": -1, **{level: i for i, level in enumerate(LEVELS)}}
    return a if rank[a] >= rank[b] else b


def furthest_stage(times: Mapping[str, datetime | None]) -> str:
    """The furthest stage with a time (an earlier stage's event never lowers it)."""
    reached = [stage for stage in STAGES if times.get(stage) is not None]
    return reached[-1] if reached else ""


def stage_seconds(
    times: Mapping[str, datetime | None],
    working_seconds: Callable[[datetime, datetime], int],
) -> dict[str, int | None]:
    """Working seconds of each timed stage: from its event to the next stage's event."""
    result: dict[str, int | None] = {}
    for stage, following in itertools.pairwise(STAGES):
        start, end = times.get(stage), times.get(following)
        result[stage] = None if start is None or end is None else working_seconds(start, end)
    return result
