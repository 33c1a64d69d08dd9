"""The Django side of Janus: the configured server, and opening, granting and closing
a meeting's VideoRoom. Docs: docs/meetings.md#rooms-on-janus.

Called by actions after their transaction committed (a network call never holds a row
lock). Janus keeps rooms and tokens in memory: ``ensure_room`` re-creates a room and
re-adds the tokens of a meeting whenever someone joins, so a Janus restart loses no
meeting.
"""

from __future__ import annotations

from django.conf import settings

from api.meetings.janus.client import Janus, JanusError, JanusUnreachable
from api.meetings.models import Meeting, Participant

__all__ = ["Janus", "JanusError", "JanusUnreachable", "configured", "server"]


def configured() -> bool:
    return bool(settings.GOVDESK_JANUS_API_URL and settings.GOVDESK_JANUS_ADMIN_URL)


def server() -> Janus:
    return Janus(
        api_url=settings.GOVDESK_JANUS_API_URL.rstrip("/"),
        admin_url=settings.GOVDESK_JANUS_ADMIN_URL.rstrip("/"),
        admin_secret=settings.GOVDESK_JANUS_ADMIN_SECRET,
        room_admin_key=settings.GOVDESK_JANUS_ROOM_ADMIN_KEY,
    )


def live_tokens(meeting: Meeting) -> list[str]:
    return [
        token
        for token in Participant.objects.filter(
            meeting=meeting, removed=False, janus_token__isnull=False
        ).values_list("janus_token", flat=True)
        if token
    ]


def ensure_room(meeting: Meeting, token: str) -> None:
    """The meeting's room exists on Janus, ``token`` may use Janus and enter the room."""
    janus = server()
    janus.add_token(token)
    with janus.handle() as room:
        if not room.exists(meeting.janus_room):
            room.create(
                meeting.janus_room,
                description=meeting.title,
                secret=meeting.room_secret,
                pin=meeting.room_pin,
                allowed=live_tokens(meeting),
                publishers=max(4, min(32, meeting.participants.count() + 2)),
            )
        else:
            room.allow(meeting.janus_room, meeting.room_secret, [token])


def revoke(meeting: Meeting, tokens: list[str], kick_feeds: list[int] | None = None) -> None:
    """Take ``tokens`` off Janus and out of the room (removed people, the end)."""
    janus = server()
    with janus.handle() as room:
        if tokens and room.exists(meeting.janus_room):
            room.allow(meeting.janus_room, meeting.room_secret, tokens, action="remove")
        for feed in kick_feeds or []:
            try:
                room.kick(meeting.janus_room, meeting.room_secret, feed)
            except JanusError as exc:
                if isinstance(exc, JanusUnreachable):
                    raise
    for token in tokens:
        janus.remove_token(token)


def close(meeting: Meeting, tokens: list[str]) -> None:
    """Destroy the room (Janus tells everyone in it) and remove its tokens."""
    janus = server()
    with janus.handle() as room:
        room.destroy(meeting.janus_room, meeting.room_secret)
    for token in tokens:
        janus.remove_token(token)


def mute(meeting: Meeting, stays: list[tuple[int, int, int]], muted: bool) -> int:
    """Mute (or unmute) the audio a participant publishes: for each stay (Janus
    session, handle, feed) the admin API names the audio streams' mids, and the
    VideoRoom's ``moderate`` mutes them for everyone. Returns how many streams."""
    janus = server()
    done = 0
    with janus.handle() as room:
        for session, handle, feed in stays:
            try:
                info = janus.handle_info(session, handle)
            except JanusError as exc:
                if isinstance(exc, JanusUnreachable):
                    raise
                continue  # that stay's handle is gone
            streams = (info.get("plugin_specific") or {}).get("streams") or []
            for stream in streams:
                if stream.get("type") == "audio" and stream.get("mid") is not None:
                    room.moderate(
                        meeting.janus_room, meeting.room_secret, feed, str(stream["mid"]), muted
                    )
                    done += 1
    return done


def lock(meeting: Meeting, locked: bool) -> None:
    """A locked room admits no one new: its ACL keeps only who is inside now."""
    janus = server()
    with janus.handle() as room:
        if not room.exists(meeting.janus_room):
            return
        if locked:
            inside = {p.get("id") for p in room.participants(meeting.janus_room)}
            stays = meeting.attendance.filter(left_at__isnull=True, feed_id__in=inside)
            keep = {s.participant.janus_token for s in stays.select_related("participant")}
            drop = [t for t in live_tokens(meeting) if t not in keep]
            if drop:
                room.allow(meeting.janus_room, meeting.room_secret, drop, action="remove")
        else:
            room.allow(meeting.janus_room, meeting.room_secret, live_tokens(meeting))
