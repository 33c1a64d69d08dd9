"""Read side of the personal office: whose schedule a person may see and how much,
a schedule window with recurrences expanded, free/busy, notes, the address book.

Docs: docs/personal-office.md. Schedule access (``access_level``):
``own`` (the owner), ``keep`` (a secretary the owner designated: sees and edits all),
``full`` (sees everything), ``busy`` (sees only when the owner is busy: colleagues of
the same body see that by default, others when the owner grants it), None (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from api.accounts.models import Post, User
from api.accounts.roles import (
    can_manage_unit,
    is_city_it_admin,
    is_member_of,
    organisation_of,
)
from api.accounts.selectors import PINYIN_QUERY, people_matching_pinyin
from api.audit.recorder import record_denied
from api.common.errors import NotFound
from api.office import recurrence, sources
from api.office.models import AccessLevel, Event, Note, ScheduleAccess

FULL_LEVELS = ("own", AccessLevel.KEEP, AccessLevel.FULL)


def access_level(viewer: User, owner: User) -> str | None:
    if viewer.pk == owner.pk:
        return "own"
    grant = (
        ScheduleAccess.objects.filter(owner=owner, grantee=viewer)
        .values_list("level", flat=True)
        .first()
    )
    if grant:
        return grant
    if is_member_of(viewer, owner.unit):
        return AccessLevel.BUSY
    return None


def schedule_owner_or_404(viewer: User, owner_id: int, action: str) -> tuple[User, str]:
    owner = User.objects.select_related("unit").filter(pk=owner_id, is_active=True).first()
    level = access_level(viewer, owner) if owner is not None else None
    if owner is None or level is None:
        record_denied(action, actor=viewer, object_type="accounts.user", object_id=owner_id)
        raise NotFound()
    return owner, level


def kept_by(viewer: User) -> QuerySet[User]:
    """Whose schedules the viewer keeps (a secretary's leaders)."""
    return User.objects.filter(
        schedule_grants__grantee=viewer, schedule_grants__level=AccessLevel.KEEP
    )


def event_or_404(viewer: User, event_id: int, *, edit: bool = False) -> Event:
    """An event its owner, a keeper of the owner, a full viewer or an attendee may
    read; only the owner and keepers may change it."""
    event = (
        Event.objects.select_related("owner", "owner__unit", "created_by")
        .filter(pk=event_id, cancelled_at__isnull=True)
        .first()
    )
    if event is not None:
        level = access_level(viewer, event.owner)
        allowed = (
            level in ("own", AccessLevel.KEEP)
            if edit
            else (level in FULL_LEVELS or event.attendee_rows.filter(user=viewer).exists())
        )
        if allowed:
            return event
    record_denied(
        "office.event_edit" if edit else "office.event_view",
        actor=viewer,
        object_type="office.event",
        object_id=event_id,
    )
    raise NotFound()


def _events_in(user: User, start: datetime, end: datetime, *, attended: bool) -> QuerySet[Event]:
    owned = Q(owner=user)
    if attended:
        owned |= Q(attendee_rows__user=user)
    return (
        Event.objects.filter(owned, cancelled_at__isnull=True, start__lt=end)
        .filter(Q(series_end__isnull=True) | Q(series_end__gt=start))
        .select_related("owner", "created_by")
        .prefetch_related("attendee_rows__user")
        .distinct()
    )


def window(
    viewer: User, owner: User, level: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The owner's schedule in the window, as the viewer may see it: occurrences of
    their events (and those they attend), plus the schedule sources' entries. A
    busy-only viewer gets ``{"busy": true, start, end}`` blocks with no title."""
    items: list[dict[str, Any]] = []
    full = level in FULL_LEVELS
    for event in _events_in(owner, start, end, attended=True):
        for occ_start, occ_end in recurrence.occurrences(
            event.rrule, event.start, event.end, start, end
        ):
            items.append(_occurrence(event, occ_start, occ_end, full))
    for entry in sources.entries(owner, start, end):
        if full:
            items.append(
                {
                    **entry,
                    "event_id": None,
                    "rrule": "",
                    "all_day": False,
                    "attendees": [],
                    "notes": "",
                    "kept_by": None,
                }
            )
        elif entry.get("busy"):
            items.append(_busy(entry["start"], entry["end"]))
    items.sort(key=lambda item: (item["start"], item["end"]))
    return items


def _busy(start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "source": "busy",
        "source_id": "",
        "event_id": None,
        "title": "",
        "start": start,
        "end": end,
        "place": "",
        "url": "",
        "busy": True,
        "rrule": "",
        "all_day": False,
        "attendees": [],
        "notes": "",
        "kept_by": None,
    }


def _occurrence(event: Event, start: datetime, end: datetime, full: bool) -> dict[str, Any]:
    if not full:
        return _busy(start, end)
    return {
        "source": "event",
        "source_id": str(event.pk),
        "event_id": event.pk,
        "title": event.title,
        "start": start,
        "end": end,
        "place": event.place,
        "url": f"/calendar/events/{event.pk}",
        "busy": True,
        "rrule": event.rrule,
        "all_day": event.all_day,
        "attendees": [
            {"id": row.user.pk, "display_name": row.user.display_name}
            for row in event.attendee_rows.all()
        ],
        "notes": event.notes,
        "kept_by": (
            {"id": event.created_by.pk, "display_name": event.created_by.display_name}
            if event.created_by_id != event.owner_id
            else None
        ),
    }


def busy_blocks(owner: User, start: datetime, end: datetime) -> list[dict[str, datetime]]:
    """Merged busy intervals of the owner in the window (events, attended events and
    busy schedule-source entries)."""
    intervals = []
    for event in _events_in(owner, start, end, attended=True):
        intervals.extend(recurrence.occurrences(event.rrule, event.start, event.end, start, end))
    for entry in sources.entries(owner, start, end):
        if entry.get("busy") and entry.get("start") and entry.get("end"):
            intervals.append((entry["start"], entry["end"]))
    intervals.sort()
    merged: list[list[datetime]] = []
    for s, e in intervals:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [{"start": s, "end": e} for s, e in merged]


def notes_of(user: User) -> QuerySet[Note]:
    return Note.objects.filter(owner=user)


def note_or_404(user: User, note_id: int) -> Note:
    note = Note.objects.filter(pk=note_id, owner=user).first()
    if note is None:
        record_denied("office.note_view", actor=user, object_type="office.note", object_id=note_id)
        raise NotFound()
    return note


# --- address book --------------------------------------------------------------------------


def sees_mobiles_of_everyone(viewer: User) -> bool:
    """City IT admins and leaders' secretaries (keepers of someone's schedule) see every
    mobile number."""
    return (
        is_city_it_admin(viewer)
        or ScheduleAccess.objects.filter(grantee=viewer, level=AccessLevel.KEEP).exists()
    )


def mask(mobile: str) -> str:
    """138****5678: enough to recognise, not to call."""
    if len(mobile) < 7:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]


class MobilePolicy:
    """Decides, for one viewer and a page of people, whose mobile number is shown; a
    few queries per page whatever its size (department → body look-ups are cached)."""

    def __init__(self, viewer: User) -> None:
        self.viewer = viewer
        self.everyone = sees_mobiles_of_everyone(viewer)
        self._orgs: dict[int, int] = {}
        self.own_org = self._org(viewer.unit)

    def _org(self, unit: Any) -> int:
        if unit.pk not in self._orgs:
            self._orgs[unit.pk] = organisation_of(unit).pk
        return self._orgs[unit.pk]

    def allows(self, person: User) -> bool:
        if self.everyone or person.pk == self.viewer.pk:
            return True
        if self._org(person.unit) == self.own_org:
            return True
        return can_manage_unit(self.viewer, person.unit)

    def mobile(self, person: User) -> tuple[str, bool]:
        if not person.mobile:
            return "", False
        if self.allows(person):
            return person.mobile, False
        return mask(person.mobile), True


def contacts(query: str = "", unit: Any = None) -> QuerySet[User]:
    """Active people for the address book: name, pinyin (initials or full, prefix),
    unit, post or title; ``unit`` narrows to its subtree."""
    people = User.objects.filter(is_active=True).select_related("unit", "contact_card")
    if unit is not None:
        people = people.filter(unit__path__startswith=unit.path)
    if query:
        match = (
            Q(display_name__icontains=query)
            | Q(title__icontains=query)
            | Q(unit__name__icontains=query)
            | Q(unit__short_name__icontains=query)
            | Q(
                pk__in=Post.objects.filter(name__icontains=query, holder__isnull=False).values(
                    "holder_id"
                )
            )
        )
        lowered = query.lower()
        if PINYIN_QUERY.match(lowered):
            match |= Q(pk__in=people_matching_pinyin(lowered))
        people = people.filter(match)
    return people.prefetch_related(Prefetch("held_posts", queryset=Post.objects.order_by("name")))
