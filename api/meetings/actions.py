"""Every state change of meetings (视频会议). Docs: docs/meetings.md.

Each action checks permission first (a refusal is recorded with ``record_denied``
outside any transaction, then raised), then runs in one transaction: the meeting row
is locked (``select_for_update``), rows change, notices go through
``api.notify.actions.notify`` inside the same transaction, and the audit event is
written last. Calls to Janus happen after the commit (``_after``), never under a lock;
when Janus cannot be reached the task ``api.meetings.tasks.sweep_rooms`` catches up.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.accounts.models import Unit, User
from api.accounts.roles import can_manage_unit, is_member_of
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.enqueue import enqueue_after_commit
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import t
from api.meetings import rooms, selectors
from api.meetings.models import (
    Attendance,
    Material,
    Meeting,
    MeetingState,
    Participant,
    ParticipantRole,
    SigninMethod,
    UnitInvitation,
)

logger = logging.getLogger(__name__)

MAX_PARTICIPANTS = 200
MAX_LENGTH = timedelta(hours=24)
MAX_AHEAD = timedelta(days=366)


def _field_error(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def _locked(meeting_id: int) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting_id)


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.state == MeetingState.ENDED:
        raise Conflict("meeting_ended", t("会议已结束。", "The meeting has ended."))
    if meeting.state == MeetingState.CANCELLED:
        raise Conflict("meeting_cancelled", t("会议已取消。", "The meeting was cancelled."))


def _require_organiser(actor: User, meeting: Meeting, action: str) -> None:
    if not selectors.is_organiser(actor, meeting):
        record_denied(action, actor=actor, obj=meeting, detail={"reason": "not_organiser"})
        raise Forbidden()


def _unavailable() -> ApiError:
    return ApiError(
        "video_unavailable",
        t(
            "视频会议需要 Janus 媒体服务器，当前不可用；日程、通知、签到和纪要不受影响。",
            "Video needs the Janus media server, which is not available; scheduling, "
            "notices, sign-in and minutes still work.",
        ),
        status_code=503,
    )


def _after(what: str, call: Any, *args: Any) -> bool:
    """Run a Janus call after the commit; a failure is logged and left to the sweep."""
    if not rooms.configured():
        return False
    try:
        call(*args)
    except rooms.JanusError:
        logger.warning("janus: %s failed; sweep_rooms will retry", what, exc_info=True)
        return False
    return True


def _notify(
    meeting: Meeting, people: Iterable[User], *, title: str, body: str, dedup: str
) -> list[int]:
    from api.notify.actions import Pending, notify_many

    items = [
        Pending(recipient=p, kind="system", title=title, body=body, dedup_key=dedup)
        for p in {p.pk: p for p in people}.values()
    ]
    return [n.recipient_id for n in notify_many(items)]


def _when(meeting: Meeting) -> str:
    start = timezone.localtime(meeting.starts_at)
    end = timezone.localtime(meeting.ends_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _people(meeting: Meeting) -> list[User]:
    return [p.user for p in selectors.participants(meeting).filter(removed=False)]


def _nominators(unit_ids: Iterable[int]) -> list[User]:
    from api.accounts.models import RoleAssignment

    return [
        a.user
        for a in RoleAssignment.objects.filter(
            unit_id__in=list(unit_ids), role__in=selectors.UNIT_NOMINATORS, user__is_active=True
        ).select_related("user")
    ]


def _check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise _field_error(
            "ends_at", "结束时间须晚于开始时间。", "The end must be after the start."
        )
    if ends_at - starts_at > MAX_LENGTH:
        raise _field_error("ends_at", "会议最长 24 小时。", "A meeting lasts at most 24 hours.")
    if ends_at <= now:
        raise _field_error("ends_at", "结束时间须晚于现在。", "The end must be in the future.")
    if starts_at > now + MAX_AHEAD:
        raise _field_error(
            "starts_at", "最多提前一年安排。", "A meeting is scheduled at most a year ahead."
        )


def _invitees(actor: User, user_ids: list[int]) -> list[User]:
    ids = list(dict.fromkeys(user_ids))
    if len(ids) > MAX_PARTICIPANTS:
        raise _field_error("user_ids", "参会人最多 200 人。", "At most 200 participants.")
    found = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise _field_error("user_ids", "有人员不存在。", "Some people do not exist.")
    return [found[i] for i in ids]


def _units(unit_ids: list[int]) -> list[Unit]:
    ids = list(dict.fromkeys(unit_ids))
    found = {u.pk: u for u in Unit.objects.filter(pk__in=ids, is_active=True)}
    if len(found) != len(ids):
        raise _field_error("unit_ids", "有单位不存在。", "Some units do not exist.")
    return [found[i] for i in ids]


def _new_room_id() -> int:
    # Janus room ids are unsigned 64-bit; stay within JavaScript's safe integers.
    return secrets.randbelow(2**52) + 1_000_000


# --- scheduling -----------------------------------------------------------------------


def schedule_meeting(
    actor: User,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str = "",
    agenda: str = "",
    host_id: int | None = None,
    user_ids: list[int] | None = None,
    unit_ids: list[int] | None = None,
) -> Meeting:
    """Schedule a meeting of the actor's unit; invite people and units; notify them."""
    now = timezone.now()
    _check_times(starts_at, ends_at, now)
    host = actor
    if host_id is not None and host_id != actor.pk:
        found = User.objects.filter(pk=host_id, is_active=True).select_related("unit").first()
        if found is None or not is_member_of(actor, found.unit):
            raise _field_error(
                "host_id", "主持人须为本单位人员。", "The host must be of your unit."
            )
        host = found
    people = _invitees(actor, user_ids or [])
    units = _units(unit_ids or [])
    with transaction.atomic():
        for _ in range(5):
            try:
                with transaction.atomic():
                    meeting = Meeting.objects.create(
                        title=title,
                        unit=actor.unit,
                        host=host,
                        created_by=actor,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        place=place,
                        agenda=agenda,
                        signin_code=f"{secrets.randbelow(10**6):06d}",
                        janus_room=_new_room_id(),
                        room_secret=secrets.token_urlsafe(24),
                        room_pin=secrets.token_urlsafe(9),
                        created_at=now,
                        updated_at=now,
                    )
                break
            except IntegrityError:  # a room id collision: draw again
                continue
        else:  # pragma: no cover - 5 collisions in 2**52
            raise Conflict("conflict")
        Participant.objects.create(meeting=meeting, user=host, role=ParticipantRole.HOST)
        Participant.objects.bulk_create(
            [Participant(meeting=meeting, user=u) for u in people if u.pk != host.pk]
        )
        UnitInvitation.objects.bulk_create([UnitInvitation(meeting=meeting, unit=u) for u in units])
        title_zh = t(f"会议通知：{title}", f"Meeting: {title}")
        body = f"{_when(meeting)} {place}".strip()
        notified = _notify(
            meeting,
            _people(meeting),
            title=title_zh,
            body=body,
            dedup=f"meeting:{meeting.pk}:invited",
        )
        notified += _notify(
            meeting,
            _nominators(u.pk for u in units),
            title=t(f"请确定参会人：{title}", f"Name your attendees: {title}"),
            body=body,
            dedup=f"meeting:{meeting.pk}:unit_invited",
        )
        record(
            "meeting.scheduled",
            actor=actor,
            obj=meeting,
            detail={
                "title": title,
                "starts_at": client_datetime(starts_at),
                "ends_at": client_datetime(ends_at),
                "host_id": host.pk,
                "user_ids": [u.pk for u in people],
                "unit_ids": [u.pk for u in units],
                "notified": sorted(set(notified)),
            },
        )
    return meeting


def update_meeting(meeting_id: int, actor: User, **changes: Any) -> Meeting:
    """Change time, place, title or agenda, and invite more people; everyone is told."""
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.update")
    add_ids = changes.pop("add_user_ids", None) or []
    remove_ids = changes.pop("remove_user_ids", None) or []
    allowed = {"title", "starts_at", "ends_at", "place", "agenda"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ApiError(
            "unknown_field", fields={k: [t("不允许的字段。", "Unknown field.")] for k in unknown}
        )
    added = _invitees(actor, add_ids)
    revoked: list[str] = []
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        before = {k: getattr(meeting, k) for k in changes}
        for key, value in changes.items():
            setattr(meeting, key, value)
        if "starts_at" in changes or "ends_at" in changes:
            _check_times(meeting.starts_at, meeting.ends_at, timezone.now())
        if remove_ids and meeting.host_id in remove_ids:
            raise _field_error("remove_user_ids", "不能移除主持人。", "The host cannot be removed.")
        removed = list(
            Participant.objects.select_for_update().filter(
                meeting=meeting, user_id__in=remove_ids, removed=False
            )
        )
        for person in removed:
            person.removed = True
            if person.janus_token:
                revoked.append(person.janus_token)
            person.save(update_fields=["removed"])
        existing = set(
            Participant.objects.filter(meeting=meeting).values_list("user_id", flat=True)
        )
        Participant.objects.bulk_create(
            [Participant(meeting=meeting, user=u) for u in added if u.pk not in existing]
        )
        Participant.objects.filter(meeting=meeting, user_id__in=[u.pk for u in added]).update(
            removed=False
        )
        meeting.revision += 1
        meeting.updated_at = timezone.now()
        meeting.save()
        _notify(
            meeting,
            _people(meeting),
            title=t(f"会议变更：{meeting.title}", f"Meeting changed: {meeting.title}"),
            body=f"{_when(meeting)} {meeting.place}".strip(),
            dedup=f"meeting:{meeting.pk}:changed:{meeting.revision}",
        )
        _notify(
            meeting,
            [p.user for p in removed],
            title=t(f"您已不在会议名单：{meeting.title}", f"You were taken off: {meeting.title}"),
            body="",
            dedup=f"meeting:{meeting.pk}:removed:{meeting.revision}",
        )
        record(
            "meeting.updated",
            actor=actor,
            obj=meeting,
            detail={
                "changed": sorted(changes),
                "before": {k: str(v) for k, v in before.items()},
                "added": [u.pk for u in added],
                "removed": [p.user_id for p in removed],
                "revision": meeting.revision,
            },
        )
    if revoked:
        _after("revoke", rooms.revoke, meeting, revoked)
    return meeting


def cancel_meeting(meeting_id: int, actor: User, reason: str = "") -> Meeting:
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.cancel")
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        meeting.state = MeetingState.CANCELLED
        meeting.cancel_reason = reason
        meeting.updated_at = timezone.now()
        meeting.save(update_fields=["state", "cancel_reason", "updated_at"])
        _notify(
            meeting,
            _people(meeting),
            title=t(f"会议取消：{meeting.title}", f"Meeting cancelled: {meeting.title}"),
            body=reason or _when(meeting),
            dedup=f"meeting:{meeting.pk}:cancelled",
        )
        record("meeting.cancelled", actor=actor, obj=meeting, detail={"reason": reason})
    _close_room(meeting)
    return meeting


def end_meeting(meeting_id: int, actor: User) -> Meeting:
    """The host ends the meeting for all: the room is destroyed and every token goes."""
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.end")
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        now = timezone.now()
        meeting.state = MeetingState.ENDED
        meeting.ended_at = now
        meeting.updated_at = now
        meeting.save(update_fields=["state", "ended_at", "updated_at"])
        Attendance.objects.filter(meeting=meeting, left_at__isnull=True).update(left_at=now)
        record("meeting.ended", actor=actor, obj=meeting, detail={})
    _close_room(meeting)
    return meeting


def _close_room(meeting: Meeting) -> None:
    tokens = rooms.live_tokens(meeting)
    if _after("close", rooms.close, meeting, tokens):
        with transaction.atomic():
            Meeting.objects.filter(pk=meeting.pk).update(room_open=False)
            Participant.objects.filter(meeting=meeting).update(
                janus_token=None, token_expires_at=None
            )
    elif rooms.configured():
        enqueue_after_commit("api.meetings.tasks.sweep_rooms")


def nominate_attendees(meeting_id: int, actor: User, unit_id: int, user_ids: list[int]) -> Meeting:
    """An invited unit's admin or clerk names who attends for the unit."""
    meeting = selectors.meeting_or_404(actor, meeting_id)
    invitation = UnitInvitation.objects.filter(meeting=meeting, unit_id=unit_id).first()
    if invitation is None or unit_id not in selectors.nominating_unit_ids(actor):
        record_denied(
            "meeting.nominate", actor=actor, obj=meeting, detail={"reason": "not_unit_nominator"}
        )
        raise Forbidden()
    people = _invitees(actor, user_ids)
    unit = invitation.unit
    if any(not is_member_of(p, unit) for p in people):
        raise _field_error("user_ids", "参会人须为该单位人员。", "Attendees must be of that unit.")
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        existing = set(
            Participant.objects.filter(meeting=meeting).values_list("user_id", flat=True)
        )
        new = [p for p in people if p.pk not in existing]
        Participant.objects.bulk_create(
            [Participant(meeting=meeting, user=p, via_unit=unit) for p in new]
        )
        _notify(
            meeting,
            new,
            title=t(f"会议通知：{meeting.title}", f"Meeting: {meeting.title}"),
            body=f"{_when(meeting)} {meeting.place}".strip(),
            dedup=f"meeting:{meeting.pk}:invited",
        )
        record(
            "meeting.attendees_named",
            actor=actor,
            obj=meeting,
            detail={"unit_id": unit.pk, "user_ids": [p.pk for p in new]},
        )
    return meeting


# --- sign-in, joining, attendance --------------------------------------------------------


def sign_in(meeting_id: int, actor: User, code: str) -> Participant:
    """On-site sign-in (现场签到) with the code shown in the meeting room."""
    meeting = selectors.meeting_or_404(actor, meeting_id)
    participant = selectors.participant_of(actor, meeting)
    if participant is None:
        record_denied("meeting.sign_in", actor=actor, obj=meeting, detail={"reason": "not_invited"})
        raise Forbidden()
    now = timezone.now()
    if not secrets.compare_digest(code.strip(), meeting.signin_code):
        record_denied("meeting.sign_in", actor=actor, obj=meeting, detail={"reason": "wrong_code"})
        raise ApiError("signin_code_wrong", t("签到码不正确。", "The sign-in code is wrong."))
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        _require_window(meeting, now)
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        if participant.signed_in_at is None:
            participant.signed_in_at = now
            participant.signin_method = SigninMethod.CODE
            participant.save(update_fields=["signed_in_at", "signin_method"])
            record(
                "meeting.signed_in",
                actor=actor,
                obj=meeting,
                detail={"participant_id": participant.pk, "method": SigninMethod.CODE},
            )
    return participant


def _window(meeting: Meeting) -> tuple[datetime, datetime]:
    early = timedelta(minutes=settings.GOVDESK_MEETING_EARLY_MINUTES)
    grace = timedelta(minutes=settings.GOVDESK_MEETING_GRACE_MINUTES)
    return meeting.starts_at - early, meeting.ends_at + grace


def _require_window(meeting: Meeting, now: datetime) -> None:
    opens, closes = _window(meeting)
    if now < opens:
        raise Conflict(
            "meeting_not_open",
            t(
                "会议尚未开始，开始前 {0} 分钟可入会。",
                "The meeting opens {0} minutes before it starts.",
            ).format(settings.GOVDESK_MEETING_EARLY_MINUTES),
        )
    if now >= closes:
        raise Conflict("meeting_ended", t("会议已结束。", "The meeting has ended."))


def _room_locked() -> ApiError:
    return Conflict("meeting_locked", t("会议室已锁定。", "The meeting room is locked."))


@dataclass
class JoinTicket:
    meeting: Meeting
    participant: Participant
    token: str
    expires_at: datetime


def join(meeting_id: int, actor: User) -> JoinTicket:
    """Issue (or re-issue) the actor's Janus token for the meeting's time window and
    make sure the room exists on Janus. Only invited people; others get a 404."""
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    participant = selectors.participant_of(actor, meeting) if meeting is not None else None
    if meeting is None or participant is None:
        if meeting is not None:
            record_denied(
                "meeting.join", actor=actor, obj=meeting, detail={"reason": "not_invited"}
            )
        raise NotFound()
    if not rooms.configured():
        raise _unavailable()
    now = timezone.now()
    is_host = participant.role == ParticipantRole.HOST
    if meeting.locked and not is_host:
        # Recorded outside the transaction (a refusal is its own committed event).
        record_denied("meeting.join", actor=actor, obj=meeting, detail={"reason": "locked"})
        raise _room_locked()
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        _require_window(meeting, now)
        if meeting.locked and not is_host:  # locked meanwhile
            raise _room_locked()
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        if not participant.janus_token:
            participant.janus_token = f"m{meeting.pk}-" + secrets.token_urlsafe(24)
        participant.token_expires_at = _window(meeting)[1]
        participant.save(update_fields=["janus_token", "token_expires_at"])
        meeting.room_open = True
        meeting.save(update_fields=["room_open"])
        record(
            "meeting.join_issued",
            actor=actor,
            obj=meeting,
            detail={
                "participant_id": participant.pk,
                "expires_at": client_datetime(participant.token_expires_at),
            },
        )
    assert participant.janus_token is not None
    try:
        rooms.ensure_room(meeting, participant.janus_token)
    except rooms.JanusError as exc:
        logger.warning("janus: cannot open room of meeting %s: %s", meeting.pk, exc)
        raise _unavailable() from exc
    return JoinTicket(meeting, participant, participant.janus_token, participant.token_expires_at)


def _stamp(event: dict[str, Any]) -> datetime:
    micro = event.get("timestamp")
    if isinstance(micro, int) and micro > 0:
        return datetime.fromtimestamp(micro / 1_000_000, tz=timezone.get_current_timezone())
    return timezone.now()


def record_janus_events(events: list[dict[str, Any]]) -> int:
    """Attendance from Janus's event handler: a VideoRoom ``joined`` event carries the
    participant's token (so the person is known from Janus, not from what the browser
    says); ``leaving``/``kicked`` ends the stay, as do the handle's detach and the
    session's end. Joins and leaves are audited. Safe to receive twice. Returns how
    many stays changed.

    Order-independent: the VideoRoom posts ``joined`` from its own thread, so on a busy
    server it can arrive after the session's ``destroyed`` (same batch or a later one).
    Joins are applied before leaves within a batch, and every end is remembered for a
    day so a join that arrives after its end is closed at once."""
    joins: list[tuple[str, dict[str, Any], int, int, datetime]] = []
    ends: list[tuple[dict[str, int], datetime, str]] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        body = event.get("event") or {}
        session = event.get("session_id")
        handle = event.get("handle_id")
        when = _stamp(event)
        if kind == 64 and body.get("plugin") == "janus.plugin.videoroom":
            data = body.get("data") or {}
            name = data.get("event")
            if name == "joined" and data.get("token") and isinstance(handle, int):
                joins.append((str(data["token"]), data, int(session or 0), handle, when))
            elif name in ("leaving", "kicked") and isinstance(handle, int):
                ends.append(({"janus_handle": handle}, when, str(name)))
        elif kind == 2 and body.get("name") == "detached" and isinstance(handle, int):
            ends.append(({"janus_handle": handle}, when, "detached"))
        elif (
            kind == 1 and body.get("name") in ("destroyed", "timeout") and isinstance(session, int)
        ):
            ends.append(({"janus_session": session}, when, str(body.get("name"))))
    changed = 0
    for token, data, session, handle, when in sorted(joins, key=lambda j: j[4]):
        changed += _joined(token, data, session, handle, when)
    for where, when, why in sorted(ends, key=lambda e: e[1]):
        _remember_end(where, when, why)
        changed += _left(where, when, why)
    return changed


_END_MEMORY_SECONDS = 24 * 3600


def _end_key(where: dict[str, int]) -> str:
    ((field, value),) = where.items()
    return f"meetings:janus-ended:{field}:{value}"


def _remember_end(where: dict[str, int], when: datetime, why: str) -> None:
    cache.set(_end_key(where), (when.isoformat(), why), _END_MEMORY_SECONDS)


def _ended_before(session: int, handle: int) -> tuple[datetime, str] | None:
    """The end Janus already reported for this session or handle, if any."""
    for where in ({"janus_session": session}, {"janus_handle": handle}):
        seen = cache.get(_end_key(where))
        if seen:
            return datetime.fromisoformat(seen[0]), str(seen[1])
    return None


def _left(where: dict[str, int], when: datetime, why: str) -> int:
    with transaction.atomic():
        stays = list(
            Attendance.objects.select_for_update()
            .filter(left_at__isnull=True, **where)
            .select_related("participant__user", "meeting")
        )
        for stay in stays:
            stay.left_at = max(when, stay.joined_at)
            stay.save(update_fields=["left_at"])
            record(
                "meeting.room_left",
                actor=stay.participant.user,
                obj=stay.meeting,
                detail={
                    "participant_id": stay.participant_id,
                    "stay_id": stay.pk,
                    "seconds": int((stay.left_at - stay.joined_at).total_seconds()),
                    "why": why,
                },
            )
    return len(stays)


def _joined(token: str, data: dict[str, Any], session: int, handle: int, when: datetime) -> int:
    participant = (
        Participant.objects.filter(janus_token=token, removed=False)
        .select_related("meeting", "user")
        .first()
    )
    if participant is None:
        return 0
    room = data.get("room")
    if room != participant.meeting.janus_room:
        return 0
    with transaction.atomic():
        stay, created = Attendance.objects.get_or_create(
            janus_session=session,
            janus_handle=handle,
            joined_at=when,
            defaults={
                "meeting": participant.meeting,
                "participant": participant,
                "feed_id": data.get("id") if isinstance(data.get("id"), int) else None,
            },
        )
        if not created:
            return 0
        fields = []
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.signed_in_at is None:
            locked.signed_in_at = when
            locked.signin_method = SigninMethod.ROOM
            fields = ["signed_in_at", "signin_method"]
            locked.save(update_fields=fields)
        record(
            "meeting.room_joined",
            actor=participant.user,
            obj=participant.meeting,
            detail={
                "participant_id": participant.pk,
                "stay_id": stay.pk,
                "signed_in": bool(fields),
            },
        )
    ended = _ended_before(session, handle)
    if ended is not None:
        _left({"janus_handle": handle}, ended[0], ended[1])
    return 1


def remove_participant(meeting_id: int, actor: User, participant_id: int) -> Participant:
    """The host removes someone from the room: their token goes and Janus kicks them."""
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.remove_participant")
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        person = (
            Participant.objects.select_for_update()
            .filter(pk=participant_id, meeting=meeting)
            .first()
        )
        if person is None:
            raise NotFound()
        if person.role == ParticipantRole.HOST:
            raise _field_error("participant_id", "不能移除主持人。", "The host cannot be removed.")
        token = person.janus_token
        person.removed = True
        person.save(update_fields=["removed"])
        feeds = [
            f
            for f in Attendance.objects.filter(
                participant=person, left_at__isnull=True
            ).values_list("feed_id", flat=True)
            if f
        ]
        record(
            "meeting.participant_removed",
            actor=actor,
            obj=meeting,
            detail={"participant_id": person.pk},
        )
    if token or feeds:
        _after("kick", rooms.revoke, meeting, [token] if token else [], feeds)
    return person


def mute_participant(meeting_id: int, actor: User, participant_id: int, muted: bool) -> int:
    """The host mutes (or unmutes) someone's microphone for the whole room, through
    the VideoRoom's ``moderate``; returns how many audio streams were changed."""
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.mute")
    _require_scheduled(meeting)
    person = Participant.objects.filter(pk=participant_id, meeting=meeting).first()
    if person is None:
        raise NotFound()
    if not rooms.configured():
        raise _unavailable()
    stays = [
        (s.janus_session, s.janus_handle, s.feed_id)
        for s in Attendance.objects.filter(participant=person, left_at__isnull=True)
        if s.feed_id
    ]
    try:
        changed = rooms.mute(meeting, stays, muted) if stays else 0
    except rooms.JanusError as exc:
        raise _unavailable() from exc
    record(
        "meeting.muted" if muted else "meeting.unmuted",
        actor=actor,
        obj=meeting,
        detail={"participant_id": person.pk, "streams": changed},
    )
    return changed


def set_locked(meeting_id: int, actor: User, locked: bool) -> Meeting:
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.lock")
    with transaction.atomic():
        meeting = _locked(meeting_id)
        _require_scheduled(meeting)
        meeting.locked = locked
        meeting.save(update_fields=["locked"])
        record(
            "meeting.locked" if locked else "meeting.unlocked", actor=actor, obj=meeting, detail={}
        )
    if meeting.room_open:
        _after("lock", rooms.lock, meeting, locked)
    return meeting


# --- materials and minutes ----------------------------------------------------------------


def add_material(meeting_id: int, actor: User, upload: UploadedFile) -> Material:
    """Agenda papers and materials, with the same size and content checks as document
    attachments (api/documents/attachments.py)."""
    from api.documents import attachments as files

    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.material_add")
    name = files.clean_name(upload.name or "")
    size = upload.size or 0
    limit = settings.GOVDESK_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise ApiError("attachment_too_large", status_code=413, extra={"max_bytes": limit})
    if not name or size == 0:
        raise _field_error("file", "文件为空或没有文件名。", "The file is empty or has no name.")
    upload.seek(0)
    file_type = files.detect(upload.file, size) if upload.file is not None else None
    extension = files.extension_of(name)
    if file_type is None or extension not in file_type.extensions:
        raise ApiError(
            "attachment_type_refused",
            status_code=415,
            extra={"detected": file_type.kind if file_type else None, "extension": extension},
        )
    upload.seek(0)
    key, sha256, stored = files.store(upload.chunks())
    try:
        with transaction.atomic():
            meeting = _locked(meeting_id)
            _require_scheduled(meeting)
            material = Material.objects.create(
                meeting=meeting,
                original_name=name,
                kind=file_type.kind,
                content_type=file_type.content_type,
                size=stored,
                sha256=sha256,
                storage_key=key,
                uploaded_by=actor,
            )
            record(
                "meeting.material_added",
                actor=actor,
                obj=meeting,
                detail={"material_id": material.pk, "name": name, "sha256": sha256, "size": stored},
            )
    except BaseException:
        files.discard(key)
        raise
    return material


def remove_material(meeting_id: int, actor: User, material_id: int) -> None:
    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.material_remove")
    with transaction.atomic():
        material = (
            Material.objects.select_for_update()
            .filter(pk=material_id, meeting=meeting, removed_at__isnull=True)
            .first()
        )
        if material is None:
            raise NotFound()
        material.removed_at = timezone.now()
        material.save(update_fields=["removed_at"])
        record(
            "meeting.material_removed",
            actor=actor,
            obj=meeting,
            detail={"material_id": material.pk},
        )


def _minutes_body(meeting: Meeting) -> list[dict[str, Any]]:
    """The 纪要 body as the documents app stores it: paragraphs ``{level, text}``
    (level 1 = a 一、 heading), with who attended from the attendance record."""
    from api.meetings.attendance import attendance_summary

    summary = attendance_summary(meeting)
    present = [r["display_name"] for r in summary if r["present"]]
    absent = [r["display_name"] for r in summary if not r["present"]]
    day = timezone.localtime(meeting.starts_at)
    paragraphs = [
        (0, f"{day:%Y年%m月%d日}，{meeting.host.display_name}主持召开{meeting.title}。"),
        (0, f"会议地点：{meeting.place or '视频会议'}。"),
        (0, f"出席：{'、'.join(present) or '无'}"),
        (0, f"缺席：{'、'.join(absent) or '无'}"),
        (1, "会议议程"),
        *[(0, line) for line in (meeting.agenda or "（无）").splitlines() if line.strip()],
        (1, "会议议定事项"),
        (0, ""),
    ]
    return [{"level": level, "text": text} for level, text in paragraphs]


def draft_minutes(meeting_id: int, actor: User) -> Meeting:
    """Draft the meeting's 纪要 through the documents app (doc_type ``minutes``) and link
    it. The host or an organiser drafts; a second call returns the linked draft."""
    from api.documents.actions import create_draft

    meeting = selectors.meeting_or_404(actor, meeting_id)
    _require_organiser(actor, meeting, "meeting.minutes")
    if meeting.minutes_document_id is not None:
        return meeting
    if meeting.state == MeetingState.CANCELLED:
        raise Conflict("meeting_cancelled", t("会议已取消。", "The meeting was cancelled."))
    with transaction.atomic():
        meeting = _locked(meeting_id)
        if meeting.minutes_document_id is not None:
            return meeting
        title = meeting.title if meeting.title.endswith("纪要") else f"{meeting.title}纪要"
        document = create_draft(
            actor,
            direction="outgoing",
            title=title[:200],
            doc_type="minutes",
            body=_minutes_body(meeting),
            unit=meeting.unit_id if is_member_of(actor, meeting.unit) else None,
        )
        meeting.minutes_document = document
        meeting.save(update_fields=["minutes_document"])
        record(
            "meeting.minutes_drafted", actor=actor, obj=meeting, detail={"document_id": document.pk}
        )
    return meeting


# --- the sweep ---------------------------------------------------------------------------


def sweep_rooms(now: datetime | None = None) -> int:
    """Close rooms whose meeting ended, was cancelled or ran past its window, and take
    expired tokens off Janus. Safe to run twice; the beat runs it every few minutes."""
    if not rooms.configured():
        return 0
    now = now or timezone.now()
    grace = timedelta(minutes=settings.GOVDESK_MEETING_GRACE_MINUTES)
    closed = 0
    due = Meeting.objects.filter(room_open=True).exclude(
        state=MeetingState.SCHEDULED, ends_at__gt=now - grace
    )
    for meeting in due:
        _close_room(meeting)
        closed += 1
    expired = Participant.objects.filter(token_expires_at__lt=now, janus_token__isnull=False)
    for person in expired.select_related("meeting"):
        if _after("revoke", rooms.revoke, person.meeting, [person.janus_token]):
            Participant.objects.filter(pk=person.pk).update(janus_token=None, token_expires_at=None)
    return closed


def manageable(actor: User, meeting: Meeting) -> bool:
    return selectors.is_organiser(actor, meeting) or can_manage_unit(actor, meeting.unit)


REMIND_BEFORE = timedelta(minutes=15)


def remind_upcoming(now: datetime | None = None) -> int:
    """The reminder rung before a meeting: 15 minutes before the start each participant
    is notified once (dedup key ``meeting:<id>:reminder``); the notify ladder escalates
    it to push and SMS as for any notification."""
    now = now or timezone.now()
    sent = 0
    due = Meeting.objects.filter(
        state=MeetingState.SCHEDULED, starts_at__gt=now, starts_at__lte=now + REMIND_BEFORE
    )
    for meeting in due:
        with transaction.atomic():
            people = _people(meeting)
            sent += len(
                _notify(
                    meeting,
                    people,
                    title=t(f"会议即将开始：{meeting.title}", f"Meeting soon: {meeting.title}"),
                    body=f"{_when(meeting)} {meeting.place}".strip(),
                    dedup=f"meeting:{meeting.pk}:reminder",
                )
            )
    return sent
