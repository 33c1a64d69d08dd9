"""Who may see and decide what in the base data catalogue, and the queries behind the
lists. Docs: docs/integrations.md#base-data-who-can-do-what.

- The catalogue (datasets, their fields and parameters) is visible to every signed-in
  person: it is the shared directory of what exists ("shared by catalogue").
- An access request is visible to its requester and to the data owner's admins: the
  unit admins whose admin scope (their unit's subtree) covers the dataset's owner unit.
  Anyone else gets a 404 (recorded).
- Those admins decide requests; nobody decides their own. The city IT admin runs the
  connector but does not own the data, so they do not decide.
- A grant is an approved request of the *person* (not their whole unit), for the unit
  they belonged to when requesting: moving to another unit ends its use.
- The query log is visible to the querier (their own queries) and to the data owner's
  admins (every query of their datasets).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from api.accounts import roles
from api.accounts.models import Unit, User
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.integrations.basedata.models import AccessRequest, Dataset, QueryLog, RequestStatus


def today() -> date:
    """The day in Asia/Shanghai (settings.TIME_ZONE): grant periods are local dates."""
    return timezone.localdate()


def owns_data_of(user: User, unit: Unit) -> bool:
    return any(roles.within(unit, root) for root in roles.admin_units(user))


def _owned_datasets_q(user: User, prefix: str) -> Q | None:
    query: Q | None = None
    for root in roles.admin_units(user):
        part = Q(**{f"{prefix}owner_unit__path__startswith": root.path})
        query = part if query is None else query | part
    return query


def datasets() -> QuerySet[Dataset]:
    return Dataset.objects.select_related("owner_unit")


def dataset_or_404(pk: int) -> Dataset:
    dataset = datasets().filter(pk=pk).first()
    if dataset is None:
        raise NotFound()
    return dataset


def visible_requests(user: User) -> QuerySet[AccessRequest]:
    query = Q(requester=user)
    owned = _owned_datasets_q(user, "dataset__")
    if owned is not None:
        query |= owned
    return AccessRequest.objects.filter(query)


def with_related(queryset: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    return queryset.select_related(
        "dataset", "dataset__owner_unit", "requester", "unit", "decided_by"
    )


def request_or_404(user: User, pk: int, action: str) -> AccessRequest:
    """The request when ``user`` may see it; otherwise the refusal is recorded and 404."""
    found = with_related(AccessRequest.objects.filter(pk=pk)).first()
    if found is None:
        raise NotFound()
    if found.requester_id != user.pk and not owns_data_of(user, found.dataset.owner_unit):
        record_denied(action, actor=user, obj=found, detail={"reason": "outside_scope"})
        raise NotFound()
    return found


def grants_of(user: User, dataset_ids: list[int] | None = None) -> QuerySet[AccessRequest]:
    """The user's approved requests for their current unit (any period)."""
    grants = AccessRequest.objects.filter(
        requester=user, unit_id=user.unit_id, status=RequestStatus.APPROVED
    )
    if dataset_ids is not None:
        grants = grants.filter(dataset_id__in=dataset_ids)
    return grants


def current_grant(user: User, dataset: Dataset) -> tuple[AccessRequest | None, str]:
    """The grant a query by ``user`` may use now, or None and why not: ``no_grant``
    (none, or only for another unit) or ``grant_expired`` (one exists, outside today).
    Of several current grants the one reaching furthest wins, unmasked first."""
    day = today()
    grants = list(grants_of(user, [dataset.pk]).order_by("-ends_on", "-id"))
    current = [g for g in grants if g.starts_on <= day <= g.ends_on]
    if current:
        current.sort(key=lambda g: (g.access_level != "unmasked", -g.ends_on.toordinal()))
        return current[0], ""
    return None, ("grant_expired" if grants else "no_grant")


def visible_logs(user: User) -> QuerySet[QueryLog]:
    query = Q(user=user)
    owned = _owned_datasets_q(user, "dataset__")
    if owned is not None:
        query |= owned
    return QueryLog.objects.filter(query).select_related("dataset", "user", "unit")
