"""City management figures (数字城管统计) and who may read them.

Docs: docs/integrations.md#city-management. ``figures()`` is one grouped query over the
stored cases (by category, district and state, with the open-overdue and closed-late
counts), folded in Python; ``dashboard_figures()`` is its small part for the portal's
leaders' dashboard, cached like the portal's own figures (docs/portal.md#caching).
City-wide figures are for leaders and supervisors (``may_read``); anyone else is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, F, Q, When
from django.utils import timezone

from api.accounts import roles
from api.accounts.models import Role, User
from api.common.datetimes import client_datetime
from api.integrations.citymgmt.models import FINISHED_STATES, CaseState, CityCase

DASHBOARD_ROWS = 5
READER_ROLES = frozenset({Role.LEADER, Role.SUPERVISOR})


def may_read(user: User) -> bool:
    """Leaders and supervisors read the city-wide figures."""
    return bool(roles.roles_of(user) & READER_ROLES)


def _row(name: str, value: str) -> dict[str, Any]:
    return {name: value, "total": 0, "open": 0, "overdue": 0}


def figures(now: datetime | None = None) -> dict[str, Any]:
    """Every stored case counted by category, district and state; ``overdue`` is open
    (not closed or cancelled) past its deadline; ``closed_late`` closed after it."""
    now = now or timezone.now()
    finished = Q(state__in=FINISHED_STATES)
    groups = (
        CityCase.objects.values("category", "district", "state")
        .annotate(
            n=Count("id"),
            overdue=Count(Case(When(~finished & Q(deadline_at__lt=now), then=1))),
            closed_late=Count(
                Case(When(state=CaseState.CLOSED, closed_at__gt=F("deadline_at"), then=1))
            ),
        )
        .order_by()
    )
    totals = {"total": 0, "open": 0, "overdue": 0, "closed": 0, "closed_late": 0}
    by_category: dict[str, dict[str, Any]] = {}
    by_district: dict[str, dict[str, Any]] = {}
    by_state = {state: 0 for state in CaseState.values}
    for group in groups:
        n, overdue = group["n"], group["overdue"]
        is_open = group["state"] not in FINISHED_STATES
        totals["total"] += n
        totals["open"] += n if is_open else 0
        totals["overdue"] += overdue
        totals["closed"] += n if group["state"] == CaseState.CLOSED else 0
        totals["closed_late"] += group["closed_late"]
        by_state[group["state"]] = by_state.get(group["state"], 0) + n
        for rows, name in ((by_category, "category"), (by_district, "district")):
            row = rows.setdefault(group[name], _row(name, group[name]))
            row["total"] += n
            row["open"] += n if is_open else 0
            row["overdue"] += overdue

    def ordered(rows: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
        return sorted(rows.values(), key=lambda r: (-r["open"], -r["total"], r[name]))

    return {
        "as_of": client_datetime(now),
        **totals,
        "by_state": [{"state": s, "count": by_state[s]} for s in CaseState.values],
        "by_category": ordered(by_category, "category"),
        "by_district": ordered(by_district, "district"),
    }


DASHBOARD_KEY = "citymgmt:dashboard:v1"


def dashboard_figures(now: datetime | None = None) -> dict[str, Any]:
    """The leaders' dashboard part: open, overdue, closed and the five categories and
    districts with most open cases. Cached for ``GOVDESK_PORTAL_DASHBOARD_SECONDS``
    (invalidated by time only, like the portal's dashboard figures)."""
    seconds = settings.GOVDESK_PORTAL_DASHBOARD_SECONDS
    if seconds > 0:
        cached = cache.get(DASHBOARD_KEY)
        if cached is not None:
            return cast(dict[str, Any], cached)
    full = figures(now)
    # No "as_of": the portal's ETag must stay the same while the figures do.
    block = {
        "open": full["open"],
        "overdue": full["overdue"],
        "closed": full["closed"],
        "by_category": [
            {"category": r["category"], "open": r["open"], "overdue": r["overdue"]}
            for r in full["by_category"][:DASHBOARD_ROWS]
        ],
        "by_district": [
            {"district": r["district"], "open": r["open"], "overdue": r["overdue"]}
            for r in full["by_district"][:DASHBOARD_ROWS]
        ],
    }
    if seconds > 0:
        cache.set(DASHBOARD_KEY, block, seconds)
    return block
