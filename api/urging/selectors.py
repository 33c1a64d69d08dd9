"""Read side of api.urging: a task's urges and the supervisors' statistics feed.

Docs: docs/urging.md#api. Both lists select the people, units and documents they
show in the same query, so their cost does not grow with the page size.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from api.accounts.models import Unit, User
from api.accounts.roles import supervised_units, within
from api.audit.recorder import record_denied
from api.common.errors import Forbidden, NotFound
from api.urging.models import UrgeRecord

# Only what an urge item shows: the document's body and the people's other columns
# are never read.
ITEM_FIELDS = (
    "id",
    "task_id",
    "kind",
    "message",
    "created_at",
    "notification_id",
    "elapsed_fraction",
    "task_round",
    "document__id",
    "document__title",
    "document__doc_number",
    "document__unit_id",
    "unit__id",
    "unit__name",
    "urged__id",
    "urged__display_name",
    "by__id",
    "by__display_name",
)


def _items() -> QuerySet[UrgeRecord]:
    return UrgeRecord.objects.select_related("document", "unit", "urged", "by").only(*ITEM_FIELDS)


def urges_of_task(task_id: int) -> QuerySet[UrgeRecord]:
    return _items().filter(task_id=task_id)


def _day_start(day: date) -> datetime:
    from api.workdays.deadlines import TZ

    return datetime.combine(day, time(0, 0), TZ)


def urge_feed(
    user: User,
    *,
    unit_id: int | None = None,
    first: date | None = None,
    last: date | None = None,
    kind: str | None = None,
) -> QuerySet[UrgeRecord]:
    """Urges of the units a supervisor supervises (their subtrees), filtered by the
    urged person's unit subtree, a Shanghai date range (inclusive) and a kind.
    Not a supervisor: 403 (recorded); a unit outside the supervised subtrees: 404."""
    roots = supervised_units(user)
    if not roots:
        record_denied("urge.list", actor=user, object_type="urging.urgerecord")
        raise Forbidden()
    if unit_id is not None:
        unit = Unit.objects.filter(pk=unit_id).first() if 0 < unit_id < 2**63 else None
        if unit is None or not any(within(unit, root) for root in roots):
            record_denied("urge.list", actor=user, object_type="accounts.unit", object_id=unit_id)
            raise NotFound()
        scope = Q(path__startswith=unit.path)
    else:
        scope = Q()
        for root in roots:
            scope |= Q(path__startswith=root.path)
    queryset = _items().filter(unit_id__in=Unit.objects.filter(scope).values("pk"))
    if first is not None:
        queryset = queryset.filter(created_at__gte=_day_start(first))
    if last is not None:
        queryset = queryset.filter(created_at__lt=_day_start(last + timedelta(days=1)))
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset
