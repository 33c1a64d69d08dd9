"""The live in-app channel: server-sent events of the caller's new notifications.

Docs: docs/notifications.md#live-channel-sse. The view is api/notify/views/live.py.

How a stream learns that something arrived, in order of preference:

1. **In-process wake-up.** ``notification_created`` (sent after commit by
   api/notify/actions.py) wakes the recipient's streams in this process at once.
2. **Redis pub/sub** when ``REDIS_URL`` is set: the same receiver publishes the
   recipient's id; one subscriber thread per web process (``Hub``) wakes the local
   streams of that user. Then the database is only asked when woken (and every
   heartbeat, as a safety net for a lost message).
3. **Polling** the Notification table for ``id > last id`` every
   ``GOVDESK_NOTIFY_STREAM_POLL_MS`` (0.5 s) -- with no Redis (the embedded demo) or
   while Redis is unreachable (the hub reconnects in the background).

Every stream lives ``GOVDESK_NOTIFY_STREAM_SECONDS`` (55 s) and then ends; the
browser's EventSource reconnects with ``Last-Event-ID`` and misses nothing. That
bounds how long a gunicorn thread is held, and at most
``GOVDESK_NOTIFY_STREAMS_PER_PROCESS`` threads of a process serve streams (the rest
keep serving the API; over the limit the answer is 503 ``stream_capacity``).

Stream tickets (``?ticket=``, for EventSource, which cannot send headers): random,
single use, ``GOVDESK_NOTIFY_STREAM_TICKET_SECONDS`` (60 s), bound to the user, the
device session and the password stamp at issue time; stored in the cache under the
ticket's SHA-256 (the ticket itself is never stored). Redemption deletes the entry and
only the caller whose delete removed it wins, so two concurrent uses cannot both pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.dispatch import receiver

from api.accounts.authentication import password_stamp
from api.accounts.models import User, UserSession
from api.notify.models import Notification
from api.notify.serializers import NotificationSerializer
from api.notify.signals import notification_created

logger = logging.getLogger(__name__)

TICKET_CACHE_PREFIX = "notify:stream-ticket:"
BATCH = 100  # notifications per query when replaying a backlog
RETRY_MS = 1000  # EventSource reconnection delay after a stream ends
REDIS_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # hub reconnect backoff
PUBLISH_PAUSE_SECONDS = 5.0  # after a failed publish, do not try again for this long

# Injectable clock for ticket expiry (tests move it instead of sleeping).
clock = time.time


# --------------------------------------------------------------------------- tickets


def _ticket_key(ticket: str) -> str:
    return TICKET_CACHE_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user: User, session: UserSession) -> tuple[str, int]:
    """A single-use stream ticket for this user and device session: (ticket, seconds)."""
    seconds = int(settings.GOVDESK_NOTIFY_STREAM_TICKET_SECONDS)
    ticket = secrets.token_urlsafe(32)
    cache.set(
        _ticket_key(ticket),
        {
            "user_id": user.pk,
            "session_id": str(session.pk),
            "pwd": password_stamp(user),
            "expires_at": clock() + seconds,
        },
        timeout=seconds + 5,  # the cache forgets it; expires_at decides
    )
    return ticket, seconds


def redeem_ticket(ticket: str) -> tuple[User, UserSession] | None:
    """The ticket's user and session, once; None when unknown, used, expired, or the
    session/user/password changed since it was issued."""
    if not ticket or len(ticket) > 200:
        return None
    key = _ticket_key(ticket)
    value = cache.get(key)
    # Only the redeemer whose delete removed the entry may use it (single use even
    # under concurrency: the cache's delete reports whether the key existed).
    if not isinstance(value, dict) or not cache.delete(key):
        return None
    if clock() > float(value.get("expires_at", 0)):
        return None
    session_id, user_id = value.get("session_id"), value.get("user_id")
    if not isinstance(session_id, str) or not isinstance(user_id, int):
        return None
    session = (
        UserSession.objects.select_related("user", "user__unit")
        .filter(pk=session_id, user_id=user_id)
        .first()
    )
    if session is None or not session.is_active:
        return None
    user: User = session.user
    if not user.is_active or password_stamp(user) != value.get("pwd"):
        return None
    return user, session


# ------------------------------------------------------------------------ wake-ups


class Waiter:
    """One open stream's doorbell."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.event = threading.Event()


class Hub:
    """Wakes the streams of this process: directly (``wake``) and, with Redis, from a
    background thread subscribed to every user's channel."""

    def __init__(self) -> None:
        self._waiters: dict[int, set[Waiter]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._redis_url = ""
        self.redis_healthy = threading.Event()
        self._stop = threading.Event()
        self._publisher: Any = None
        self._publish_paused_until = 0.0

    # -- local waiters
    def register(self, user_id: int) -> Waiter:
        waiter = Waiter(user_id)
        with self._lock:
            self._waiters.setdefault(user_id, set()).add(waiter)
        self._ensure_subscriber()
        return waiter

    def unregister(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.user_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.user_id]

    def wake(self, user_id: int) -> None:
        with self._lock:
            waiters = list(self._waiters.get(user_id, ()))
        for waiter in waiters:
            waiter.event.set()

    def open_streams(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    # -- Redis
    @staticmethod
    def channel_prefix() -> str:
        """Pub/sub channels are global to a Redis server (not per database number):
        the prefix names this deployment's database so two deployments (or two test
        runs) sharing a Redis never wake each other's streams."""
        db = settings.DATABASES["default"]
        marker = f"{db.get('HOST', '')}:{db.get('PORT', '')}/{db.get('NAME', '')}"
        return "govdesk:" + hashlib.sha256(marker.encode()).hexdigest()[:12] + ":notify:u:"

    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1.0, socket_timeout=1.0
        )

    def publish(self, user_id: int) -> None:
        """Tell every web process that ``user_id`` has something new. Best effort: on
        failure the streams still poll; publishing pauses briefly so a Redis outage
        does not add a timeout to every committing request."""
        if not settings.REDIS_URL or time.monotonic() < self._publish_paused_until:
            return
        try:
            if self._publisher is None:
                self._publisher = self._client()
            self._publisher.publish(self.channel_prefix() + str(user_id), b"1")
        except Exception:
            self._publish_paused_until = time.monotonic() + PUBLISH_PAUSE_SECONDS
            self._publisher = None
            logger.warning("live channel: Redis publish failed; streams fall back to polling")

    def _ensure_subscriber(self) -> None:
        url = settings.REDIS_URL
        if not url:
            self.redis_healthy.clear()
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._redis_url == url:
                return
            self._redis_url = url
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._subscribe_forever, name="notify-live-hub", daemon=True
            )
            self._thread.start()

    def _subscribe_forever(self) -> None:
        failures = 0
        prefix = self.channel_prefix()
        while not self._stop.is_set() and self._redis_url == settings.REDIS_URL:
            pubsub = None
            try:
                pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(prefix + "*")
                self.redis_healthy.set()
                failures = 0
                while not self._stop.is_set() and self._redis_url == settings.REDIS_URL:
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "pmessage":
                        channel = message["channel"]
                        if isinstance(channel, bytes):
                            channel = channel.decode()
                        tail = channel[len(prefix) :]
                        if tail.isdigit():
                            self.wake(int(tail))
            except Exception:
                if self.redis_healthy.is_set():
                    logger.warning("live channel: Redis subscription lost; polling until back")
                self.redis_healthy.clear()
                delay = REDIS_RETRY_SECONDS[min(failures, len(REDIS_RETRY_SECONDS) - 1)]
                failures += 1
                self._stop.wait(delay)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # closing a broken connection is best effort
                        logger.debug("closing the pubsub failed", exc_info=True)
        self.redis_healthy.clear()

    def stop(self) -> None:
        """Stops the subscriber thread (tests)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        self._thread = None
        self.redis_healthy.clear()


hub = Hub()


@receiver(notification_created, dispatch_uid="api.notify.live.wake_streams")
def wake_streams(sender: Any, notification_id: int, recipient_id: int, **kwargs: Any) -> None:
    hub.wake(recipient_id)
    hub.publish(recipient_id)


# ------------------------------------------------------------------------- capacity


class StreamSlots:
    """At most ``GOVDESK_NOTIFY_STREAMS_PER_PROCESS`` open streams in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0

    def acquire(self) -> bool:
        with self._lock:
            if self.in_use >= int(settings.GOVDESK_NOTIFY_STREAMS_PER_PROCESS):
                return False
            self.in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.in_use = max(0, self.in_use - 1)


slots = StreamSlots()


# --------------------------------------------------------------------------- stream


def latest_id(user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id).aggregate(m=Max("id"))["m"] or 0


def encode_event(notification: Notification) -> bytes:
    data = json.dumps(
        NotificationSerializer(notification).data, ensure_ascii=False, separators=(",", ":")
    )
    return f"id: {notification.pk}\nevent: notification\ndata: {data}\n\n".encode()


def _session_active(session_id: Any) -> bool:
    session = UserSession.objects.filter(pk=session_id).only("expires_at", "revoked_at").first()
    return session is not None and session.is_active


@dataclass
class StreamSettings:
    lifetime: float
    heartbeat: float
    poll: float

    @classmethod
    def current(cls) -> StreamSettings:
        return cls(
            lifetime=float(settings.GOVDESK_NOTIFY_STREAM_SECONDS),
            heartbeat=float(settings.GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS),
            poll=settings.GOVDESK_NOTIFY_STREAM_POLL_MS / 1000.0,
        )


class Stream:
    """The response body of one stream: an iterator of SSE bytes that holds a slot
    until it is closed (the WSGI server closes it when the client goes away, the
    lifetime ends or the response was never started)."""

    def __init__(self, user_id: int, session_id: Any, last_id: int, cfg: StreamSettings) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.last_id = last_id
        self.cfg = cfg
        # The slot taken by the view is given back exactly once: on close(), or when
        # a response that was never iterated nor closed is garbage-collected.
        self._release = weakref.finalize(self, slots.release)
        self._events = self._run()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._events)

    def close(self) -> None:
        self._events.close()
        self._release()

    def _fetch(self) -> list[Notification]:
        return list(
            Notification.objects.filter(recipient_id=self.user_id, id__gt=self.last_id).order_by(
                "id"
            )[:BATCH]
        )

    def _run(self) -> Generator[bytes, None, None]:
        cfg = self.cfg
        # The first bytes go out at once: the client (and nginx) see the headers now.
        yield f"retry: {RETRY_MS}\n: connected\n\n".encode()
        waiter = hub.register(self.user_id)
        try:
            start = time.monotonic()
            deadline = start + cfg.lifetime
            next_heartbeat = start + cfg.heartbeat
            while True:
                waiter.event.clear()  # before the query: a wake during it is not lost
                rows = self._fetch()
                for row in rows:
                    self.last_id = row.pk
                    yield encode_event(row)
                if len(rows) == BATCH:
                    continue  # more backlog: no waiting
                now = time.monotonic()
                if now >= deadline:
                    return
                redis_mode = hub.redis_healthy.is_set()
                interval = cfg.heartbeat if redis_mode else cfg.poll
                if redis_mode and not connection.in_atomic_block:
                    # Woken by Redis, the stream queries seldom: do not hold a
                    # database connection for the whole minute in between.
                    connection.close()
                waiter.event.wait(max(0.0, min(interval, next_heartbeat - now, deadline - now)))
                if time.monotonic() >= next_heartbeat:
                    if not _session_active(self.session_id):
                        return  # signed out (or revoked) elsewhere: stop at once
                    yield b": ping\n\n"
                    next_heartbeat += cfg.heartbeat
        finally:
            hub.unregister(waiter)
