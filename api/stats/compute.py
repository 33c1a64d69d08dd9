"""The statistics (效能统计): items handled, handling time, overdue, returns and the
unit efficiency score. Docs: docs/supervision.md#statistics (every definition here is
written out there, with a worked example).

* A task counts for its **principal**: ``on_behalf_of`` when a backup (B岗) acted for
  A, else its ``assignee``; and for the principal's unit (``User.unit``). Automatic
  steps (no assignee) never count.
* **Handled** in a period: closed by a person's action — ``approve``, ``acknowledge``
  or ``return`` — with ``acted_at`` inside the period (Shanghai dates, ``to``
  inclusive). Transfers are not handling: the step's clock goes on with the new holder.
* **Handling time**: ``Task.working_seconds`` — working-clock seconds from received to
  acted, minus the time the document was away after a return (docs/workflow.md) —
  shown in working hours. Median and p90 use linear interpolation between the closest
  ranks (PostgreSQL ``percentile_cont``; the same formula in Python on SQLite).
* **Overdue**: handled after ``due_at``, or still open with ``due_at`` inside the period
  and already passed. Overdue rate = overdue ÷ (handled + still-open overdue).
* **Returned**: handled with action ``return``. Return rate = returned ÷ handled.
* **Slow**: handled with more than ``GOVDESK_STATS_SLOW_HOURS`` working hours.
* **Documents** (限时办结, docs/workflow.md#document-time-limits), per the document's
  own unit: completed in the period on time (``limit_done_at`` ≤ ``due_at``) or late, and
  by how much (working hours past ``due_at``, total and longest); still running past a
  ``due_at`` inside the period (``open_overdue``). Not part of the score.
* **Contributed figures** (api/stats/contributions.py): what apps above stats add to a
  unit's row, such as its accountability cases (docs/accountability.md). Not part of
  the score.
* **Score** = 100 − W_overdue × overdue rate − W_return × return rate − W_slow × slow
  rate − each scored contribution's weight × its rate (e-supervision: late ÷ completed
  service items, docs/integrations.md#e-supervision), one decimal, never below 0; no
  score (``null``) for a unit with nothing to judge.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.stats import contributions
from api.workdays.deadlines import TZ
from api.workflow.models import Task, TaskState

HANDLED_ACTIONS = ("approve", "acknowledge", "return")
COMPONENTS = ("overdue", "returned", "slow")
LIST_COMPONENTS = ("handled", "overdue", "open_overdue", "returned", "slow")
LABELS = {
    "overdue": ("逾期率", "overdue rate"),
    "returned": ("退回率", "return rate"),
    "slow": ("超时办理率", "slow rate"),
}


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=TZ)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=TZ)

    def query(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


@dataclass(frozen=True)
class Weights:
    overdue: int
    returned: int
    slow: int
    slow_hours: int
    # (contribution key, weight) of the contributions that enter the score.
    contributed: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_settings(cls) -> Weights:
        return cls(
            overdue=settings.GOVDESK_STATS_WEIGHT_OVERDUE,
            returned=settings.GOVDESK_STATS_WEIGHT_RETURN,
            slow=settings.GOVDESK_STATS_WEIGHT_SLOW,
            slow_hours=settings.GOVDESK_STATS_SLOW_HOURS,
            contributed=tuple(
                (c.key, int(getattr(settings, c.score_part.weight_setting)))
                for c in contributions.scored()
                if c.score_part is not None
            ),
        )

    def of(self, component: str) -> int:
        return int(getattr(self, component))


@dataclass
class Figures:
    """The numbers of one group (a unit, a person or a step kind)."""

    items: int = 0
    returned: int = 0
    overdue_handled: int = 0
    open_overdue: int = 0
    slow: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def overdue(self) -> int:
        return self.overdue_handled + self.open_overdue

    @property
    def overdue_base(self) -> int:
        return self.items + self.open_overdue

    def base(self, component: str) -> int:
        return self.overdue_base if component == "overdue" else self.items

    def count(self, component: str) -> int:
        return {"overdue": self.overdue, "returned": self.returned, "slow": self.slow}[component]

    def rate(self, component: str) -> float | None:
        base = self.base(component)
        return None if base == 0 else self.count(component) / base


# --- percentiles ----------------------------------------------------------------------


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont``: linear interpolation between the two closest
    ranks of the sorted values, position = fraction × (n − 1)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class PercentileCont(Aggregate):
    """``percentile_cont(p) WITHIN GROUP (ORDER BY expr)`` — PostgreSQL only."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


# --- the querysets --------------------------------------------------------------------


def _principal(queryset: QuerySet[Task]) -> QuerySet[Task]:
    return queryset.annotate(
        stat_person=Coalesce(F("on_behalf_of_id"), F("assignee_id")),
        stat_unit=Coalesce(F("on_behalf_of__unit_id"), F("assignee__unit_id")),
    )


def handled(period: Period) -> QuerySet[Task]:
    return _principal(
        Task.objects.filter(
            action__in=HANDLED_ACTIONS,
            acted_at__gte=period.start,
            acted_at__lt=period.end,
            assignee__isnull=False,
        )
    )


def open_overdue(period: Period, now: datetime) -> QuerySet[Task]:
    return _principal(
        Task.objects.filter(
            state=TaskState.OPEN,
            due_at__gte=period.start,
            due_at__lt=min(period.end, now),
            assignee__isnull=False,
        )
    )


def component_tasks(
    component: str, period: Period, now: datetime, weights: Weights
) -> QuerySet[Task]:
    """The records behind one figure (before the unit/person filter)."""
    if component == "open_overdue":
        return open_overdue(period, now)
    if component == "overdue":
        late = Q(due_at__isnull=False, acted_at__gt=F("due_at"))
        late_handled = Q(action__in=HANDLED_ACTIONS, acted_at__gte=period.start) & Q(
            acted_at__lt=period.end
        )
        still_open = Q(
            state=TaskState.OPEN, due_at__gte=period.start, due_at__lt=min(period.end, now)
        )
        return _principal(
            Task.objects.filter(assignee__isnull=False).filter((late_handled & late) | still_open)
        )
    queryset = handled(period)
    if component == "returned":
        return queryset.filter(action="return")
    if component == "slow":
        return queryset.filter(working_seconds__gt=weights.slow_hours * 3600)
    return queryset


def figures_by(
    group: str,
    period: Period,
    *,
    now: datetime | None = None,
    weights: Weights | None = None,
    restrict: Q | None = None,
    contributed: dict[int, dict[str, Any]] | None = None,
) -> dict[Any, Figures]:
    """Figures per value of ``group`` (``stat_unit``, ``stat_person`` or ``step_kind``),
    in three queries whatever the number of tasks: the counts and (on PostgreSQL) the
    percentiles in one aggregate, the still-open overdue in another, and on SQLite the
    handling times of the period for the Python percentiles. Per unit, the scored
    contributions' figures come along (from ``contributed`` when the caller has them
    already, else one provider call each)."""
    now = now or timezone.now()
    weights = weights or Weights.from_settings()
    base = handled(period)
    late = open_overdue(period, now)
    if restrict is not None:
        base = base.filter(restrict)
        late = late.filter(restrict)
    aggregates: dict[str, Any] = {
        "items": Count("id"),
        "returned": Count("id", filter=Q(action="return")),
        "overdue_handled": Count("id", filter=Q(due_at__isnull=False, acted_at__gt=F("due_at"))),
        "slow": Count("id", filter=Q(working_seconds__gt=weights.slow_hours * 3600)),
    }
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        aggregates["median_seconds"] = PercentileCont("working_seconds", 0.5)
        aggregates["p90_seconds"] = PercentileCont("working_seconds", 0.9)
    result: dict[Any, Figures] = defaultdict(Figures)
    for row in base.values(group).annotate(**aggregates).order_by():
        key = row.pop(group)
        result[key] = Figures(**row)
    for row in late.values(group).annotate(n=Count("id")).order_by():
        result[row[group]].open_overdue = row["n"]
    if not on_postgres:
        samples: dict[Any, list[float]] = defaultdict(list)
        for key, seconds in base.filter(working_seconds__isnull=False).values_list(
            group, "working_seconds"
        ):
            samples[key].append(float(seconds))
        for key, values in samples.items():
            result[key].median_seconds = percentile_cont(values, 0.5)
            result[key].p90_seconds = percentile_cont(values, 0.9)
    if group == "stat_unit" and result:
        _add_scored_contributions(result, period, contributed)
    return dict(result)


def _add_scored_contributions(
    result: dict[Any, Figures], period: Period, contributed: dict[int, dict[str, Any]] | None
) -> None:
    """The (count, base) of each scored contribution, in ``Figures.extra`` of each unit
    that has figures."""
    ids = [pk for pk in result if pk is not None]
    for contribution in contributions.scored():
        part = contribution.score_part
        if part is None:
            continue
        values: dict[int, Any]
        if contributed is not None:
            values = {pk: (contributed.get(pk) or {}).get(contribution.key) for pk in ids}
        else:
            values = contribution.provider(ids, period.start, period.end)
        for pk in ids:
            figures = values.get(pk) or contribution.empty()
            result[pk].extra[contribution.key] = (figures[part.count], figures[part.base])


# --- presenting -----------------------------------------------------------------------


def figures_json(figures: Figures) -> dict[str, Any]:
    def rate(component: str) -> float | None:
        value = figures.rate(component)
        return None if value is None else round(value, 4)

    return {
        "items": figures.items,
        "median_hours": hours(figures.median_seconds),
        "p90_hours": hours(figures.p90_seconds),
        "overdue": figures.overdue,
        "open_overdue": figures.open_overdue,
        "overdue_rate": rate("overdue"),
        "returned": figures.returned,
        "return_rate": rate("returned"),
        "slow": figures.slow,
        "slow_rate": rate("slow"),
    }


def contributed_rate(figures: Figures, key: str) -> tuple[int, int, float | None]:
    count, base = figures.extra.get(key, (0, 0))
    return count, base, (count / base if base else None)


def score(figures: Figures, weights: Weights) -> float | None:
    if figures.overdue_base == 0:
        return None
    total = 100.0
    for component in COMPONENTS:
        total -= weights.of(component) * (figures.rate(component) or 0.0)
    for key, weight in weights.contributed:
        total -= weight * (contributed_rate(figures, key)[2] or 0.0)
    # The contributed weights come on top of the three (whose sum is at most 100).
    return round(max(total, 0.0), 1)


def formula(weights: Weights) -> str:
    labels = {c.key: c.score_part.label for c in contributions.scored() if c.score_part}
    contributed = "".join(
        f" − {weight}×{labels.get(key, key)}" for key, weight in weights.contributed
    )
    return (
        f"100 − {weights.overdue}×逾期率 − {weights.returned}×退回率 − {weights.slow}×超时办理率"
        f"{contributed}（超时 = 超过 {weights.slow_hours} 个工作小时）"
    )


def tasks_link(unit_id: int, component: str, period: Period) -> str:
    query = urlencode({"component": component, **period.query()})
    return f"/api/v1/stats/units/{unit_id}/tasks/?{query}"


def score_json(unit_id: int, figures: Figures, weights: Weights, period: Period) -> dict[str, Any]:
    components = []
    for component in COMPONENTS:
        rate = figures.rate(component)
        components.append(
            {
                "key": component,
                "label": LABELS[component][0],
                "weight": weights.of(component),
                "count": figures.count(component),
                "base": figures.base(component),
                "rate": None if rate is None else round(rate, 4),
                "deduction": None if rate is None else round(weights.of(component) * rate, 2),
                "tasks": tasks_link(unit_id, component, period),
            }
        )
    contributed = []
    for key, weight in weights.contributed:
        count, base, rate = contributed_rate(figures, key)
        contributed.append(
            {
                "key": key,
                "weight": weight,
                "count": count,
                "base": base,
                "rate": None if rate is None else round(rate, 4),
                "deduction": None if rate is None else round(weight * rate, 2),
            }
        )
    return {
        "score": score(figures, weights),
        "formula": formula(weights),
        "components": components,
        "contributed_components": contributed,
        "handled_tasks": tasks_link(unit_id, "handled", period),
    }


def unit_rows(
    units: Iterable[Any], period: Period, weights: Weights, now: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per unit (units without records included, with no score)."""
    units = list(units)
    contributed = contributions.unit_figures([u.pk for u in units], period.start, period.end)
    figures = figures_by(
        "stat_unit",
        period,
        now=now,
        weights=weights,
        restrict=unit_filter(units),
        contributed=contributed,
    )
    documents = document_figures([u.pk for u in units], period, now=now)
    rows = []
    for unit in units:
        unit_figures = figures.get(unit.pk, Figures())
        rows.append(
            {
                "unit": {"id": unit.pk, "name": unit.name},
                **period.query(),
                **figures_json(unit_figures),
                **score_json(unit.pk, unit_figures, weights, period),
                "documents": documents.get(unit.pk) or _no_documents(),
                **contributed[unit.pk],
            }
        )
    return rows


def _no_documents() -> dict[str, Any]:
    return {
        "done": 0,
        "on_time": 0,
        "late": 0,
        "late_hours_total": 0.0,
        "late_hours_max": None,
        "open_overdue": 0,
    }


def document_figures(
    unit_ids: list[int], period: Period, *, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per document unit, in one query: documents completed in the period on time or
    late (and by how many working hours), and documents still running past a due time
    inside the period."""
    from api.documents.models import Document
    from api.workdays.deadlines import working_seconds_between

    now = now or timezone.now()
    done = Q(limit_done_at__gte=period.start, limit_done_at__lt=period.end)
    running_late = Q(
        limit_done_at__isnull=True,
        limit_paused_at__isnull=True,
        status="in_progress",
        due_at__gte=period.start,
        due_at__lt=min(period.end, now),
    )
    rows = (
        Document.objects.filter(unit_id__in=unit_ids, due_at__isnull=False)
        .filter(done | running_late)
        .values_list("unit_id", "due_at", "limit_done_at")
    )
    result: dict[int, dict[str, Any]] = {}
    for unit_id, due_at, done_at in rows:
        figures = result.setdefault(unit_id, _no_documents())
        if due_at is None:  # filtered out above; for the type checker
            continue
        if done_at is None:
            figures["open_overdue"] += 1
            continue
        figures["done"] += 1
        if done_at <= due_at:
            figures["on_time"] += 1
            continue
        figures["late"] += 1
        late = round(working_seconds_between(due_at, done_at) / 3600, 1)
        figures["late_hours_total"] = round(figures["late_hours_total"] + late, 1)
        figures["late_hours_max"] = max(figures["late_hours_max"] or 0.0, late)
    return result


def unit_filter(units: list[Any]) -> Q:
    ids = [u.pk for u in units]
    return Q(on_behalf_of__unit_id__in=ids) | Q(
        on_behalf_of__isnull=True, assignee__unit_id__in=ids
    )
