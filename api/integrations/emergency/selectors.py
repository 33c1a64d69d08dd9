"""Who is on duty, and who may see the roster and the handling records.

Docs: docs/integrations.md#emergency. Shifts are Asia/Shanghai wall-clock: the day
shift 08:00–18:00, the night shift 18:00 to 08:00 the next morning (so 03:00 belongs to
the previous day's night shift). The roster of a unit is kept by its unit admins and
read by them and by the unit's members. A handling record is seen by the people it was
sent to, the duty unit's admins and leaders and supervisors over the duty unit; anyone
else gets a 404 (recorded).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.accounts import roles
from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.integrations.emergency.models import (
    DutyAssignment,
    HandlingRecipient,
    HandlingRecord,
    Shift,
)
from api.workdays.deadlines import TZ

DAY_STARTS = time(8, 0)
NIGHT_STARTS = time(18, 0)


def shift_at(moment: datetime) -> tuple[date, str]:
    """The (day, shift) that covers ``moment``."""
    local = timezone.localtime(moment, TZ)
    if local.time() < DAY_STARTS:
        return local.date() - timedelta(days=1), Shift.NIGHT
    if local.time() < NIGHT_STARTS:
        return local.date(), Shift.DAY
    return local.date(), Shift.NIGHT


def duty_unit() -> Unit | None:
    """The city's duty office (总值班室): the unit with code
    ``GOVDESK_EMERGENCY_DUTY_UNIT``, else the root of the organisation tree."""
    code = settings.GOVDESK_EMERGENCY_DUTY_UNIT
    found = Unit.objects.filter(code=code).first() if code else None
    return found or Unit.objects.filter(parent__isnull=True).order_by("id").first()


def officers_on_duty(unit: Unit, moment: datetime) -> list[User]:
    day, shift = shift_at(moment)
    ids = DutyAssignment.objects.filter(unit=unit, day=day, shift=shift).values("officer_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def fallback_people(unit: Unit) -> list[User]:
    """Nobody on duty: the duty unit's admins (who keep the roster), else its leaders."""
    for role in (Role.UNIT_ADMIN, Role.LEADER):
        ids = RoleAssignment.objects.filter(unit=unit, role=role).values("user_id")
        people = list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))
        if people:
            return people
    return []


# --- the roster ------------------------------------------------------------------------


def visible_duty(user: User) -> QuerySet[DutyAssignment]:
    """The rosters of the user's own unit and of the units they administer."""
    query = Q(unit_id=user.unit_id) | Q(officer=user)
    if roles.is_city_it_admin(user):
        return DutyAssignment.objects.all()
    for root in roles.admin_units(user):
        query |= Q(unit__path__startswith=root.path)
    return DutyAssignment.objects.filter(query)


# --- handling records --------------------------------------------------------------------

OVERSEER_ROLES = (Role.UNIT_ADMIN, Role.LEADER)


def visible_records(user: User) -> QuerySet[HandlingRecord]:
    told = HandlingRecipient.objects.filter(user=user).values("record_id")
    query = Q(pk__in=told)
    overseen = [a.unit_id for a in roles.assignments_of(user) if a.role in OVERSEER_ROLES]
    if overseen:
        query |= Q(duty_unit_id__in=overseen)
    for root in roles.supervised_units(user):
        query |= Q(duty_unit__path__startswith=root.path)
    return HandlingRecord.objects.filter(query)


def with_related(queryset: QuerySet[HandlingRecord]) -> QuerySet[HandlingRecord]:
    return queryset.select_related("duty_unit", "acknowledged_by")


def record_or_404(user: User, pk: int, action: str) -> HandlingRecord:
    found = with_related(HandlingRecord.objects.filter(pk=pk)).first()
    if found is None:
        raise NotFound()
    if not visible_records(user).filter(pk=pk).exists():
        record_denied(action, actor=user, obj=found, detail={"reason": "outside_scope"})
        raise NotFound()
    return found


def may_acknowledge(user: User, record: HandlingRecord) -> bool:
    """The people it was sent to, and the duty unit's admins."""
    if HandlingRecipient.objects.filter(record=record, user=user).exists():
        return True
    return roles.can_manage_unit(user, record.duty_unit)
