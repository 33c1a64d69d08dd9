"""Per-unit e-supervision figures (电子监察统计): the API's rows and the unit's
contribution to the statistics (api/stats/contributions.py). Docs:
docs/integrations.md#e-supervision.

For a period [start, end): **items** completed (办结) in it, **on time** (used ≤ the
legal limit) and **late**, the **on-time rate** (on time ÷ items, null without items),
the **average working days** of each stage and of the whole item over those items,
and, as of now, the unit's **open** items and how many of them are over their limit
(黄牌/红牌) — one aggregate query for any number of units; the API adds the alerts
raised in the period per level (a second query). The late rate (late ÷ items) enters
the unit efficiency score with the weight ``GOVDESK_STATS_WEIGHT_ESUPERVISION`` (10).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q

from api.integrations.esupervision.models import LEVELS, TIMED_STAGES, Alert, ServiceItem
from api.integrations.esupervision.rules import DAY_SECONDS

KEY = "esupervision"
COLUMNS = (
    ("items", "电子监察办结件数"),
    ("on_time", "电子监察按时办结"),
    ("late", "电子监察超期办结"),
    ("on_time_rate", "电子监察按时办结率"),
    ("open", "电子监察在办件数"),
    ("open_over_limit", "电子监察在办超期"),
)


def empty() -> dict[str, Any]:
    return {
        "items": 0,
        "on_time": 0,
        "late": 0,
        "on_time_rate": None,
        "average_days": {stage: None for stage in (*TIMED_STAGES, "total")},
        "open": 0,
        "open_over_limit": 0,
    }


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY_SECONDS, 2)


def unit_figures(unit_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Per unit id (every id present): the item figures of ``[start, end)``, in one
    query (the contribution to each statistics row)."""
    done = Q(complete_at__gte=start, complete_at__lt=end)
    is_open = Q(complete_at__isnull=True)
    rows = (
        ServiceItem.objects.filter(unit_id__in=list(unit_ids))
        .filter(done | is_open)
        .values("unit_id")
        .annotate(
            items=Count("id", filter=done),
            on_time=Count("id", filter=done & Q(on_time=True)),
            open=Count("id", filter=is_open),
            open_over_limit=Count("id", filter=is_open & Q(level__in=("yellow", "red"))),
            total=Avg("used_seconds", filter=done),
            **{stage: Avg(f"{stage}_seconds", filter=done) for stage in TIMED_STAGES},
        )
        .order_by()
    )
    result = {pk: empty() for pk in unit_ids}
    for row in rows:
        figures = result[row["unit_id"]]
        items, on_time = row["items"], row["on_time"]
        figures.update(
            items=items,
            on_time=on_time,
            late=items - on_time,
            on_time_rate=round(on_time / items, 4) if items else None,
            open=row["open"],
            open_over_limit=row["open_over_limit"],
            average_days={stage: _days(row[stage]) for stage in (*TIMED_STAGES, "total")},
        )
    return result


def alert_counts(unit_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Per unit id: the alerts raised in ``[start, end)`` per level (one query)."""
    result = {pk: {f"alerts_{level}": 0 for level in LEVELS} for pk in unit_ids}
    rows = (
        Alert.objects.filter(unit_id__in=list(unit_ids), raised_at__gte=start, raised_at__lt=end)
        .values("unit_id", "level")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        result[row["unit_id"]][f"alerts_{row['level']}"] = row["n"]
    return result


def install() -> None:
    """Register the figures as the ``esupervision`` contribution of each unit's row."""
    from api.integrations.esupervision.serializers import UnitFiguresSerializer
    from api.stats import contributions

    contributions.register(
        contributions.UnitContribution(
            key=KEY,
            provider=unit_figures,
            empty=empty,
            serializer=UnitFiguresSerializer,
            columns=COLUMNS,
            help_text="e-supervision (电子监察) service items of the unit: completed in the "
            "period, on time, average working days per stage, alerts "
            "(docs/integrations.md#e-supervision)",
            report_title="电子监察（行政审批办件按时办结情况及预警、黄牌、红牌）",
            # The efficiency score deducts weight × late ÷ completed items.
            score_part=contributions.ScorePart(
                label="电子监察超期率",
                weight_setting="GOVDESK_STATS_WEIGHT_ESUPERVISION",
                count="late",
                base="items",
            ),
        )
    )
