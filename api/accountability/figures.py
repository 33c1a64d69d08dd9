"""The cases in a unit's yearly figures (效能统计), registered into api/stats.

Docs: docs/accountability.md#yearly-figures. api/stats sits below this app and must
not import it, so this app registers a contribution (api/stats/contributions.py) in
its AppConfig.ready(): each unit row of the statistics API (JSON, CSV/XLSX) then
carries ``accountability`` — the cases about the unit opened in the period, how many
are still pending, how many were decided, each outcome's count and the link listing
the cases. One aggregate query for a whole page of units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q

from api.accountability.models import AccountabilityCase, CaseStatus, OutcomeKind
from api.workdays.deadlines import TZ

KEY = "accountability"
COLUMNS = (
    ("opened", "问责立案数"),
    ("pending", "问责未结案"),
    ("decided", "问责已结案"),
    *((kind.value, f"问责结果：{kind.label}") for kind in OutcomeKind),
)


def cases_link(unit_id: int, start: datetime, end: datetime) -> str:
    first = start.astimezone(TZ).date()
    last = (end.astimezone(TZ) - timedelta(days=1)).date()  # ``end`` is exclusive
    query = urlencode({"unit": unit_id, "from": first.isoformat(), "to": last.isoformat()})
    return f"/api/v1/accountability/cases/?{query}"


def empty() -> dict[str, Any]:
    return {"opened": 0, "pending": 0, "decided": 0, **{kind: 0 for kind in OutcomeKind.values}}


def unit_cases(unit_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Per unit id: the cases opened in ``[start, end)`` and their outcomes."""
    aggregates: dict[str, Any] = {
        "opened": Count("id"),
        "pending": Count("id", filter=~Q(status=CaseStatus.DECIDED)),
        "decided": Count("id", filter=Q(status=CaseStatus.DECIDED)),
        **{
            kind: Count("id", filter=Q(status=CaseStatus.DECIDED, outcome_kind=kind))
            for kind in OutcomeKind.values
        },
    }
    rows = (
        AccountabilityCase.objects.filter(
            unit_id__in=list(unit_ids), opened_at__gte=start, opened_at__lt=end
        )
        .values("unit_id")
        .annotate(**aggregates)
        .order_by()
    )
    result = {row.pop("unit_id"): row for row in rows}
    return {
        pk: {**(result.get(pk) or empty()), "cases": cases_link(pk, start, end)} for pk in unit_ids
    }


def install() -> None:
    from api.accountability.serializers import UnitCasesSerializer
    from api.stats import contributions

    contributions.register(
        contributions.UnitContribution(
            key=KEY,
            provider=unit_cases,
            empty=empty,
            serializer=UnitCasesSerializer,
            columns=COLUMNS,
            help_text="accountability cases (问责) about the unit opened in the period "
            "(docs/accountability.md#yearly-figures)",
            report_title="问责情况（期间内立案的问责案件及其结果，市纪委（监察局）负责）",
        )
    )
