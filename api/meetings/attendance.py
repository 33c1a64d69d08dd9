"""The attendance record (出勤): who signed in, who was in the room and for how long.
Docs: docs/meetings.md#attendance.

Read-only; two queries whatever the number of participants and stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from api.meetings.models import Attendance, Meeting, MeetingState, Participant


def _covered_seconds(spans: list[tuple[datetime, datetime]]) -> int:
    """Time covered by the stays, overlaps counted once (two devices at once, or a
    stay Janus never closed because it restarted while the person rejoined)."""
    total = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in sorted(spans):
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return int(total)


def attendance_summary(meeting: Meeting, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    until = meeting.ended_at if meeting.state == MeetingState.ENDED and meeting.ended_at else now
    stays: dict[int, list[Attendance]] = {}
    for stay in Attendance.objects.filter(meeting=meeting).order_by("joined_at", "id"):
        stays.setdefault(stay.participant_id, []).append(stay)
    rows = []
    people = (
        Participant.objects.filter(meeting=meeting)
        .select_related("user", "user__unit", "via_unit")
        .order_by("id")
    )
    for person in people:
        mine = stays.get(person.pk, [])
        seconds = _covered_seconds([(s.joined_at, s.left_at or until) for s in mine])
        rows.append(
            {
                "participant_id": person.pk,
                "user_id": person.user_id,
                "display_name": person.user.display_name,
                "unit_name": person.user.unit.name,
                "role": person.role,
                "via_unit_id": person.via_unit_id,
                "removed": person.removed,
                "signed_in_at": person.signed_in_at,
                "signin_method": person.signin_method,
                "first_joined_at": mine[0].joined_at if mine else None,
                "last_left_at": (
                    max((s.left_at for s in mine if s.left_at), default=None) if mine else None
                ),
                "in_room": any(s.left_at is None for s in mine),
                "stays": len(mine),
                "seconds_in_room": seconds,
                "present": bool(mine) or person.signed_in_at is not None,
            }
        )
    return rows
