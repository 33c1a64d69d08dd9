"""Every state change of the personal office: events, schedule access, the feed
token, notes, the address-book card, and the reminders the beat sends.

Docs: docs/personal-office.md. Each function is one transaction, locks what it
changes and records an audit event in it. Reminders go through the one notify
ladder (api.notify.actions.notify_many) with dedup keys, so a reminder task that
runs twice reminds once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record
from api.common.errors import ApiError, Conflict, NotFound
from api.common.i18n import at_most, between, one_of, t
from api.notify.actions import Pending, notify_many
from api.notify.models import Kind
from api.office import recurrence
from api.office.models import (
    AccessLevel,
    Attendee,
    ContactCard,
    Event,
    FeedToken,
    Note,
    ScheduleAccess,
)

MAX_ATTENDEES = 200
MAX_REMIND_MINUTES = 7 * 24 * 60
MAX_DURATION = timedelta(days=31)


@dataclass
class EventData:
    title: str
    start: datetime
    end: datetime
    place: str = ""
    notes: str = ""
    all_day: bool = False
    rrule: str = ""
    remind_minutes: int | None = None
    attendees: list[int] = field(default_factory=list)


def _check(data: EventData) -> list[User]:
    if data.end < data.start or data.end - data.start > MAX_DURATION:
        raise ApiError(
            "validation_error",
            fields={
                "end": [
                    t(
                        "结束时间须晚于开始时间，且不超过 31 天。",
                        "The end must follow the start, within 31 days.",
                    )
                ]
            },
        )
    if data.remind_minutes is not None and not 0 <= data.remind_minutes <= MAX_REMIND_MINUTES:
        raise ApiError("validation_error", fields={"remind_minutes": [between(0, 10080)]})
    if data.rrule:
        recurrence.parse(data.rrule, data.start)
    wanted = list(dict.fromkeys(data.attendees))
    if len(wanted) > MAX_ATTENDEES:
        raise ApiError("validation_error", fields={"attendees": [at_most(MAX_ATTENDEES)]})
    people = list(User.objects.filter(pk__in=wanted, is_active=True))
    missing = sorted(set(wanted) - {p.pk for p in people})
    if missing:
        raise ApiError(
            "validation_error",
            fields={
                "attendees": [t("人员不存在：", "No such person: ") + ", ".join(map(str, missing))]
            },
        )
    return people


def _apply(event: Event, data: EventData) -> None:
    event.title = data.title.strip()
    event.place = data.place.strip()
    event.notes = data.notes
    event.start = data.start
    event.end = data.end
    event.all_day = data.all_day
    event.rrule = recurrence.normalise(data.rrule) if data.rrule else ""
    event.series_end = recurrence.series_end(event.rrule, data.start, data.end)
    event.remind_minutes = data.remind_minutes
    event.updated_at = timezone.now()


def _invite(event: Event, people: list[User], actor: User) -> None:
    invited = [p for p in people if p.pk not in (event.owner_id, actor.pk)]
    if invited:
        notify_many(
            [
                Pending(
                    recipient=person,
                    kind=Kind.SYSTEM,
                    title=f"日程邀请：{event.title}"[:200],
                    body=f"{timezone.localtime(event.start):%Y-%m-%d %H:%M} {event.place}".strip(),
                    urgency="low",
                    dedup_key=f"event:{event.pk}:invite",
                )
                for person in invited
            ]
        )


def create_event(actor: User, owner: User, data: EventData) -> Event:
    """Add an event to ``owner``'s schedule: the owner themself or a keeper (the
    view has checked the access level)."""
    people = _check(data)
    with transaction.atomic():
        event = Event(owner=owner, created_by=actor, uid=f"{uuid.uuid4()}@govdesk")
        _apply(event, data)
        event.save()
        Attendee.objects.bulk_create([Attendee(event=event, user=p) for p in people])
        _invite(event, people, actor)
        record(
            "office.event_created",
            actor=actor,
            on_behalf_of=owner if owner.pk != actor.pk else None,
            obj=event,
            unit_id=owner.unit_id,
            detail={"owner": owner.pk, "attendees": len(people), "recurring": bool(event.rrule)},
        )
    return event


def update_event(actor: User, event_id: int, data: EventData) -> Event:
    people = _check(data)
    with transaction.atomic():
        event = (
            Event.objects.select_for_update().filter(pk=event_id, cancelled_at__isnull=True).first()
        )
        if event is None:
            raise NotFound()
        _apply(event, data)
        event.save()
        Attendee.objects.filter(event=event).exclude(user__in=people).delete()
        have = set(Attendee.objects.filter(event=event).values_list("user_id", flat=True))
        Attendee.objects.bulk_create(
            [Attendee(event=event, user=p) for p in people if p.pk not in have]
        )
        _invite(event, [p for p in people if p.pk not in have], actor)
        record(
            "office.event_updated",
            actor=actor,
            obj=event,
            unit_id=event.owner.unit_id,
            detail={"owner": event.owner_id},
        )
    return event


def cancel_event(actor: User, event_id: int) -> None:
    with transaction.atomic():
        event = (
            Event.objects.select_for_update().filter(pk=event_id, cancelled_at__isnull=True).first()
        )
        if event is None:
            raise NotFound()
        event.cancelled_at = timezone.now()
        event.save(update_fields=["cancelled_at"])
        record(
            "office.event_cancelled",
            actor=actor,
            obj=event,
            unit_id=event.owner.unit_id,
            detail={"owner": event.owner_id},
        )


# --- who sees or keeps a schedule -----------------------------------------------------------


def grant_access(owner: User, grantee_id: int, level: str) -> ScheduleAccess:
    if level not in AccessLevel.values:
        raise ApiError("validation_error", fields={"level": [one_of(AccessLevel.values)]})
    grantee = User.objects.filter(pk=grantee_id, is_active=True).first()
    if grantee is None or grantee.pk == owner.pk:
        raise ApiError(
            "validation_error", fields={"grantee": [t("人员无效。", "Not a valid person.")]}
        )
    with transaction.atomic():
        access, created = ScheduleAccess.objects.select_for_update().get_or_create(
            owner=owner, grantee=grantee, defaults={"level": level}
        )
        if not created:
            access.level = level
            access.save(update_fields=["level"])
        record(
            "office.access_granted",
            actor=owner,
            object_type="office.schedule_access",
            object_id=access.pk,
            detail={"grantee": grantee.pk, "level": level},
        )
    return access


def revoke_access(owner: User, access_id: int) -> None:
    with transaction.atomic():
        access = (
            ScheduleAccess.objects.select_for_update().filter(pk=access_id, owner=owner).first()
        )
        if access is None:
            raise NotFound()
        record(
            "office.access_revoked",
            actor=owner,
            object_type="office.schedule_access",
            object_id=access.pk,
            detail={"grantee": access.grantee_id, "level": access.level},
        )
        access.delete()


# --- the iCalendar feed ---------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(user: User) -> str:
    """A new secret feed token (the old one stops working). Shown once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        now = timezone.now()
        FeedToken.objects.filter(owner=user, revoked_at__isnull=True).update(revoked_at=now)
        FeedToken.objects.create(owner=user, token_hash=hash_token(token))
        record(
            "office.feed_token_issued", actor=user, object_type="accounts.user", object_id=user.pk
        )
    return token


def revoke_feed_token(user: User) -> int:
    with transaction.atomic():
        revoked = FeedToken.objects.filter(owner=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not revoked:
            raise Conflict(
                "feed_not_enabled",
                t("没有启用的日历订阅。", "There is no calendar feed to revoke."),
            )
        record(
            "office.feed_token_revoked", actor=user, object_type="accounts.user", object_id=user.pk
        )
    return revoked


# --- notes ----------------------------------------------------------------------------------


def save_note(
    user: User, title: str, body: str, remind_at: datetime | None, note_id: int | None = None
) -> Note:
    with transaction.atomic():
        if note_id is None:
            note = Note(owner=user)
        else:
            found = Note.objects.select_for_update().filter(pk=note_id, owner=user).first()
            if found is None:
                raise NotFound()
            note = found
        if note.remind_at != remind_at:
            note.reminded_at = None
        note.title, note.body, note.remind_at = title.strip(), body, remind_at
        note.updated_at = timezone.now()
        note.save()
        record(
            "office.note_saved",
            actor=user,
            object_type="office.note",
            object_id=note.pk,
            detail={"remind": remind_at is not None},
        )
    return note


def delete_note(user: User, note_id: int) -> None:
    with transaction.atomic():
        note = Note.objects.select_for_update().filter(pk=note_id, owner=user).first()
        if note is None:
            raise NotFound()
        record("office.note_deleted", actor=user, object_type="office.note", object_id=note.pk)
        note.delete()


# --- address book ---------------------------------------------------------------------------


def update_card(actor: User, person: User, office_phone: str, room: str) -> ContactCard:
    with transaction.atomic():
        card, _ = ContactCard.objects.select_for_update().get_or_create(user=person)
        card.office_phone, card.room, card.updated_at = (
            office_phone.strip(),
            room.strip(),
            timezone.now(),
        )
        card.save()
        record(
            "office.contact_updated",
            actor=actor,
            object_type="accounts.user",
            object_id=person.pk,
            unit_id=person.unit_id,
        )
    return card


# --- reminders (beat) -----------------------------------------------------------------------


def send_reminders(now: datetime | None = None) -> int:
    """Remind the owner and attendees of every occurrence whose reminder time has
    come, and the owners of due notes. Dedup keys make a second run a no-op."""
    now = now or timezone.now()
    pending: list[Pending] = []
    horizon = now + timedelta(minutes=MAX_REMIND_MINUTES)
    events = (
        Event.objects.filter(
            remind_minutes__isnull=False, cancelled_at__isnull=True, start__lte=horizon
        )
        .exclude(series_end__lt=now)
        .select_related("owner")
        .prefetch_related("attendee_rows__user")
    )
    for event in events:
        lead = timedelta(minutes=event.remind_minutes or 0)
        for occ_start, _occ_end in recurrence.occurrences(
            event.rrule, event.start, event.end, now, now + lead + timedelta(seconds=1)
        ):
            if occ_start - lead > now or occ_start < now:
                continue
            people = [event.owner, *(row.user for row in event.attendee_rows.all())]
            for person in {p.pk: p for p in people}.values():
                pending.append(
                    Pending(
                        recipient=person,
                        kind=Kind.SYSTEM,
                        title=f"日程提醒：{event.title}"[:200],
                        body=f"{timezone.localtime(occ_start):%m-%d %H:%M} {event.place}".strip(),
                        urgency="normal",
                        dedup_key=f"event:{event.pk}:{occ_start.astimezone(UTC).isoformat()}"[:200],
                    )
                )
    sent = 0
    with transaction.atomic():
        if pending:
            sent += len(notify_many(pending, now=now))
        due = list(
            Note.objects.select_for_update(skip_locked=True)
            .filter(remind_at__lte=now, reminded_at__isnull=True)
            .select_related("owner")[:500]
        )
        if due:
            sent += len(
                notify_many(
                    [
                        Pending(
                            recipient=note.owner,
                            kind=Kind.SYSTEM,
                            title=f"便签提醒：{note.title or note.body[:40]}"[:200],
                            body=note.body[:500],
                            urgency="normal",
                            dedup_key=f"note:{note.pk}:{note.remind_at.isoformat()}"[:200],  # type: ignore[union-attr]
                        )
                        for note in due
                    ],
                    now=now,
                )
            )
            Note.objects.filter(pk__in=[n.pk for n in due]).update(reminded_at=now)
    return sent
