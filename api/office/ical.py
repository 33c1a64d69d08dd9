"""The personal iCalendar feed (RFC 5545), built with the ``icalendar`` library.

Docs: docs/personal-office.md#calendar-feed. A phone's calendar app subscribes to
``/api/v1/calendar/feed/<token>.ics`` over the intranet or VPN; the token is the
credential (only its hash is stored; revoking or re-issuing it ends the old URL).
The feed holds the owner's own events and the events they attend, recurring ones
with their RRULE, cancelled ones left out.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, vRecur
from icalendar import Event as VEvent

from api.accounts.models import User
from api.office.actions import hash_token
from api.office.models import Event, FeedToken

MAX_EVENTS = 2000


def owner_of(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    found = (
        FeedToken.objects.select_related("owner")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
    return found.owner if found else None


def feed(owner: User) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//GovDesk//Personal office//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{owner.display_name} 的日程")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    events = (
        Event.objects.filter(
            Q(owner=owner) | Q(attendee_rows__user=owner), cancelled_at__isnull=True
        )
        .distinct()
        .order_by("-start")[:MAX_EVENTS]
    )
    now = timezone.now()
    for event in events:
        item = VEvent()
        item.add("uid", event.uid)
        item.add("dtstamp", now)
        item.add("summary", event.title)
        item.add("dtstart", timezone.localtime(event.start))
        item.add("dtend", timezone.localtime(event.end))
        if event.place:
            item.add("location", event.place)
        if event.notes:
            item.add("description", event.notes)
        if event.rrule:
            item.add("rrule", vRecur.from_ical(event.rrule))
        item.add("last-modified", event.updated_at)
        calendar.add_component(item)
    return calendar.to_ical()
