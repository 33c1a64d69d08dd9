"""Read-side queries of the organisation: units, members, posts, appointment requests.

Docs: docs/organisation.md. Subtree queries are one indexed ``path LIKE 'prefix%'``
(``path__startswith``); every queryset here loads what its serializer reads
(``select_related``/``prefetch_related``) so list endpoints cost a fixed number of
queries whatever the number of rows. Visibility rules live in api/accounts/roles.py.
"""

from __future__ import annotations

import functools
import re

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.db.models.functions import Length, Substr
from pypinyin import Style, lazy_pinyin

from api.accounts.models import AppointmentRequest, Post, RoleAssignment, Unit, UnitKind, User
from api.accounts.roles import is_city_it_admin

# Largest id the API accepts (bigint); anything larger is simply "not found".
MAX_ID = 2**63 - 1

# --- pinyin (people pickers: the routing picker, the office address book) ---------------

# A query that may be pinyin (full or initials): lower-case ASCII letters only.
PINYIN_QUERY = re.compile(r"^[a-z]{1,24}$")


@functools.lru_cache(maxsize=32768)
def pinyin_of(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a name, lower-case ASCII: 张三 → ("zs", "zhangsan").
    Computed in Python from the name (short, cached), so no column has to be kept in step."""
    full = lazy_pinyin(name, errors="ignore")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(initials).lower(), "".join(full).lower()


def people_matching_pinyin(query: str) -> list[int]:
    """Ids of the active people whose name starts with ``query`` in pinyin, full or
    initials (``zs`` or ``zhang`` finds 张三): one scan of (id, name)."""
    ids = []
    for pk, name in User.objects.filter(is_active=True).values_list("id", "display_name"):
        initials, full = pinyin_of(name)
        if initials.startswith(query) or full.startswith(query):
            ids.append(pk)
    return ids


def units() -> QuerySet[Unit]:
    """Every unit: names, codes and the tree are visible to every signed-in user,
    because addressing a document (主送/抄送) needs the whole tree."""
    return Unit.objects.all()


def unit_by_id(unit_id: int) -> Unit | None:
    if not 0 < unit_id <= MAX_ID:
        return None
    return Unit.objects.filter(pk=unit_id).first()


def subtree(unit: Unit) -> QuerySet[Unit]:
    """``unit`` and everything below it, in one index-friendly prefix query."""
    return Unit.objects.filter(path__startswith=unit.path)


def children(unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(parent=unit)


def _with_roles(queryset: QuerySet[User]) -> QuerySet[User]:
    return queryset.select_related("unit").prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.order_by("role", "unit_id"))
    )


def members(unit: Unit, *, include_subtree: bool = False, whole: bool = True) -> QuerySet[User]:
    """People of ``unit``; with ``include_subtree`` also of the units below it — all of
    them when ``whole``, else only its departments (内设部门), stopping at any unit
    below that is a body of its own (a township under a district, a bureau under the
    city): a plain member sees their own body's people, not the bodies below."""
    if not include_subtree:
        return _with_roles(User.objects.filter(unit=unit))
    queryset = User.objects.filter(unit__path__startswith=unit.path)
    if not whole:
        bodies_between = (
            Unit.objects.filter(path__startswith=unit.path)
            .exclude(kind=UnitKind.DEPARTMENT)
            .exclude(pk=unit.pk)
            .annotate(prefix=Substr(OuterRef("unit__path"), 1, Length("path")))
            .filter(prefix=F("path"))
        )
        queryset = queryset.exclude(Exists(bodies_between))
    return _with_roles(queryset)


def user_by_id(user_id: int) -> User | None:
    if not 0 < user_id <= MAX_ID:
        return None
    return _with_roles(User.objects.filter(pk=user_id)).first()


def user_in_subtree(user_id: int, root: Unit) -> User | None:
    """The user when their unit lies in ``root``'s subtree; ``None`` otherwise — the
    same answer for a missing id and for someone elsewhere, so nothing leaks."""
    if not 0 < user_id <= MAX_ID:
        return None
    return (
        User.objects.select_related("unit")
        .filter(pk=user_id, unit__path__startswith=root.path)
        .first()
    )


def posts(unit: Unit) -> QuerySet[Post]:
    return Post.objects.filter(unit=unit).select_related("holder", "backup")


def post_by_id(post_id: int) -> Post | None:
    if not 0 < post_id <= MAX_ID:
        return None
    return Post.objects.select_related("unit", "holder", "backup").filter(pk=post_id).first()


def role_assignments(user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user)


def appointments_visible_to(user: User) -> QuerySet[AppointmentRequest]:
    """City IT admins see every request; anyone else the requests they filed."""
    queryset = AppointmentRequest.objects.select_related("user", "requested_by", "decided_by")
    if is_city_it_admin(user):
        return queryset
    return queryset.filter(requested_by=user)


def appointment_by_id(request_id: int) -> AppointmentRequest | None:
    if not 0 < request_id <= MAX_ID:
        return None
    return (
        AppointmentRequest.objects.select_related("user", "unit", "requested_by", "decided_by")
        .filter(pk=request_id)
        .first()
    )


def unfiled_role_grants():
    """Assignments of a filed role (docs/organisation.md#roles) that no approved
    appointment request backs: granted directly before filing covered every sensitive
    role, by seeding, or by hand. For review (``manage.py list_unfiled_roles``)."""
    from api.accounts.models import FILED_ROLES, AppointmentKind, AppointmentStatus

    filed = AppointmentRequest.objects.filter(
        user=OuterRef("user"),
        role=OuterRef("role"),
        unit=OuterRef("unit"),
        kind=AppointmentKind.APPOINT,
        status=AppointmentStatus.APPROVED,
    )
    return (
        RoleAssignment.objects.filter(role__in=FILED_ROLES)
        .annotate(filed=Exists(filed))
        .filter(filed=False)
        .select_related("user", "user__unit", "unit")
        .order_by("unit__path", "role", "user__username", "pk")
    )
