"""Who may see a meeting, and read-only queries. Docs: docs/meetings.md#who-sees-what.

A meeting is visible to its host, its creator, its participants, the admins and
clerks of the units it invited (they name attendees) and the admins of the
organising unit. Anyone else gets a 404 (recorded).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from api.accounts.models import Role, User
from api.accounts.roles import assignments_of, can_manage_unit
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.meetings.models import Meeting, MeetingState, Participant

UNIT_NOMINATORS = frozenset({Role.UNIT_ADMIN, Role.CLERK})


def nominating_unit_ids(user: User) -> list[int]:
    """Units whose attendees this user may name (their admin or clerk)."""
    return [a.unit_id for a in assignments_of(user) if a.role in UNIT_NOMINATORS]


def visible_meetings(user: User) -> QuerySet[Meeting]:
    mine = (
        Q(host=user)
        | Q(created_by=user)
        | Q(participants__user=user, participants__removed=False)
        | Q(unit_invitations__unit_id__in=nominating_unit_ids(user))
    )
    managed = [a.unit_id for a in assignments_of(user) if a.role == Role.UNIT_ADMIN]
    if managed:
        mine |= Q(unit_id__in=managed)
    ids = Meeting.objects.filter(mine).values("id")
    return Meeting.objects.filter(id__in=ids)


def with_related(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return meetings.select_related("host", "unit", "created_by", "minutes_document")


def meeting_or_404(user: User, meeting_id: int, action: str = "meeting.view") -> Meeting:
    meeting = with_related(Meeting.objects.filter(pk=meeting_id)).first()
    if meeting is None:
        raise NotFound()
    if not visible_meetings(user).filter(pk=meeting_id).exists():
        record_denied(action, actor=user, obj=meeting, detail={"reason": "not_invited"})
        raise NotFound()
    return meeting


def is_organiser(user: User, meeting: Meeting) -> bool:
    """The host, the creator, and admins of the organising unit manage a meeting."""
    return user.pk in (meeting.host_id, meeting.created_by_id) or can_manage_unit(
        user, meeting.unit
    )


def participant_of(user: User, meeting: Meeting) -> Participant | None:
    return Participant.objects.filter(meeting=meeting, user=user, removed=False).first()


def participants(meeting: Meeting) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(meeting=meeting)
        .select_related("user", "user__unit", "via_unit")
        .order_by("id")
    )


def schedule_entries(user: User, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The schedule-source contract (docs/meetings.md#schedule): the meetings ``user``
    takes part in or hosts that overlap ``[start, end)``, cancelled ones left out."""
    meetings = (
        Meeting.objects.filter(
            Q(host=user) | Q(participants__user=user, participants__removed=False),
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .exclude(state=MeetingState.CANCELLED)
        .distinct()
        .order_by("starts_at", "id")
    )
    return [
        {
            "source": "meetings",
            "source_id": str(m.pk),
            "title": m.title,
            "start": m.starts_at,
            "end": m.ends_at,
            "place": m.place,
            "url": f"/meetings/{m.pk}",
            "busy": True,
        }
        for m in meetings
    ]
