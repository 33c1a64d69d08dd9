"""The demo duty roster for ``manage.py seed_demo`` (docs/integrations.md#emergency).

Two weeks from yesterday on, in the duty office (``selectors.duty_unit()``: 新城市人民政府
unless ``GOVDESK_EMERGENCY_DUTY_UNIT`` says otherwise): 赵丽 (``office_staff``) on the day
shift, 陈晓 (``secretary1``) on the night shift, entered by the city IT admin. An event
sent by the demo's fake (``POST /emergency/trigger`` on the fakes' port) reaches the one
on duty. Idempotent: an existing row is kept.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from api.accounts.models import User
from api.integrations.emergency import selectors
from api.integrations.emergency.models import DutyAssignment, Shift
from api.workdays.deadlines import TZ

DAYS = 14
ROSTER = {Shift.DAY: "office_staff", Shift.NIGHT: "secretary1"}


def seed() -> int:
    """Create the roster rows that are missing; the number created."""
    unit = selectors.duty_unit()
    people = {u.username: u for u in User.objects.filter(username__in=[*ROSTER.values(), "admin"])}
    if unit is None or "admin" not in people:
        return 0
    today = timezone.localtime(timezone.now(), TZ).date()
    created = 0
    for offset in range(-1, DAYS):
        for shift, username in ROSTER.items():
            officer = people.get(username)
            if officer is None:
                continue
            _, made = DutyAssignment.objects.get_or_create(
                unit=unit,
                day=today + timedelta(days=offset),
                shift=shift,
                officer=officer,
                defaults={"created_by": people["admin"]},
            )
            created += made
    return created
