"""Helpers of the emergency connector's tests (docs/integrations.md#emergency)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from api.integrations.emergency.models import DutyAssignment
from api.integrations.emergency.selectors import shift_at


def event(event_id: str = "YJ1", sequence: int = 1, **fields) -> dict:
    now = timezone.localtime(timezone.now()).replace(microsecond=0)
    return {
        "event_id": event_id,
        "sequence": sequence,
        "type": "道路塌陷",
        "level": "III",
        "place": "人民路与建设街交叉口",
        "occurred_at": (now - timedelta(minutes=5)).isoformat(),
        "summary": f"第{sequence}报：路面塌陷约 20 平方米。",
        "sent_at": now.isoformat(),
        **fields,
    }


def put_on_duty_now(unit, officer, created_by) -> None:
    """``officer`` on the shift covering now and on the next one (a test running across
    08:00 or 18:00 still finds them on duty)."""
    now = timezone.now()
    for moment in (now, now + timedelta(hours=10)):
        day, shift = shift_at(moment)
        DutyAssignment.objects.get_or_create(
            unit=unit, day=day, shift=shift, officer=officer, defaults={"created_by": created_by}
        )
