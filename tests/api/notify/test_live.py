"""The live channel over real HTTP (pytest-django's live server, a threaded WSGI server
like gunicorn's gthread workers): SSE events after a committed notify(), Last-Event-ID
replay, single-use expiring tickets, isolation between users, polling without Redis.
Docs: docs/notifications.md#live-channel-sse.
"""

from __future__ import annotations

import contextlib
import gc
import http.client
import json
import os
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.utils import timezone

from api.accounts.tokens import issue_tokens, open_session
from api.notify import live
from api.notify.actions import notify
from api.notify.models import Notification
from api.notify.serializers import NotificationSerializer
from notifications.channels.webpush import generate_vapid_keys
from tests.conftest import requires_postgres
from tests.personas import client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Bounds on waiting for an event that must come: generous, the machine may be busy.
# How fast events arrive is not asserted (docs/testing.md: no timing assertions).
WAIT = 15.0


@pytest.fixture(autouse=True)
def fast_streams(settings):
    """Short lifetimes so the tests never wait on a 55 s stream; no Redis unless a
    test asks for it (REDIS_URL from the environment is kept in ``redis_url``)."""
    settings.GOVDESK_NOTIFY_STREAM_SECONDS = 20
    # A stream notices a client that went away when it next writes: heartbeat often,
    # so each test's streams are over before the next test starts.
    settings.GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS = 0.5
    settings.GOVDESK_NOTIFY_STREAM_POLL_MS = 500
    settings.GOVDESK_NOTIFY_STREAMS_PER_PROCESS = 8
    settings.REDIS_URL = ""
    yield
    live.hub.stop()


def token_for(user) -> tuple[str, object]:
    session = open_session(user, device_name="live-test")
    return issue_tokens(user, session).access, session


@dataclass
class Event:
    id: str | None
    event: str | None
    data: str
    at: float

    def json(self):
        return json.loads(self.data)


@dataclass
class SseClient:
    """Reads one stream on a thread; events, comments and the end land in a queue."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    items: queue.Queue = field(default_factory=queue.Queue)
    connection: http.client.HTTPConnection | None = None
    sock: socket.socket | None = None
    ended: threading.Event = field(default_factory=threading.Event)

    def next_event(self, timeout: float) -> Event | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.items.get(timeout=left)
            except queue.Empty:
                return None
            if isinstance(item, Event):
                return item
        return None

    def events_until_end(self, timeout: float) -> list[Event | str]:
        out: list[Event | str] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.items.get(timeout=left)
            except queue.Empty:
                break
            if item is None:
                return out
            out.append(item)
        raise AssertionError(f"stream did not end within {timeout} s: {out}")

    def close(self) -> None:
        # The response keeps the socket after http.client forgets it (Connection:
        # close): shut the socket itself down, as a browser closing the tab does.
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        if self.connection is not None:
            self.connection.close()


def open_stream(
    base: str, *, token: str | None = None, query: dict | None = None, headers: dict | None = None
) -> SseClient:
    split = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
    path = "/api/v1/notifications/stream/"
    if query:
        path += "?" + urllib.parse.urlencode(query)
    sent = {"Accept": "text/event-stream", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    conn.request("GET", path, headers=sent)
    sock = conn.sock
    response = conn.getresponse()
    client = SseClient(response.status, {k.lower(): v for k, v in response.getheaders()})
    client.connection, client.sock = conn, sock
    if response.status != 200:
        client.body = response.read()
        conn.close()
        return client

    def read() -> None:
        fields: dict[str, str] = {}
        data: list[str] = []
        try:
            while True:
                raw = response.fp.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if data:  # the SSE rule: no data, no event (e.g. a lone retry:)
                        client.items.put(
                            Event(
                                fields.get("id"),
                                fields.get("event"),
                                "\n".join(data),
                                time.monotonic(),
                            )
                        )
                    fields, data = {}, []
                elif line.startswith(":"):
                    client.items.put(line)
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
        except (OSError, ValueError):
            pass
        finally:
            client.ended.set()
            client.items.put(None)

    threading.Thread(target=read, daemon=True).start()
    return client


@pytest.fixture
def stream(live_server) -> Iterator:
    opened: list[SseClient] = []

    def _open(**kw) -> SseClient:
        client = open_stream(live_server.url, **kw)
        opened.append(client)
        if client.status == 200:
            # The connected comment: the server has registered the stream.
            first = client.items.get(timeout=WAIT)
            assert first == ": connected", first
        return client

    yield _open
    for client in opened:
        client.close()
    _wait_for_free_slots()
    assert live.slots.in_use == 0, "a stream outlived its client"


def _wait_for_free_slots() -> None:
    """Streams notice a closed client at their next heartbeat (0.5 s here); poll until
    every slot is back, within WAIT."""
    deadline = time.monotonic() + WAIT
    while live.slots.in_use and time.monotonic() < deadline:
        time.sleep(0.05)


def note(user, n: int, **kw) -> Notification | None:
    with transaction.atomic():
        return notify(
            recipient=user,
            kind="system",
            title=f"通知 {n}",
            body="正文",
            dedup_key=f"live-test:{user.pk}:{n}",
            **kw,
        )


def test_event_arrives_after_a_committed_notify(personas, stream):
    leo = personas["leo"]
    token, _ = token_for(leo)
    client = stream(token=token)
    assert client.headers["content-type"].startswith("text/event-stream")
    n = note(leo, 1, urgency="high")
    event = client.next_event(timeout=WAIT)
    assert event is not None, f"no event within {WAIT} s"
    assert event.event == "notification" and event.id == str(n.pk)
    assert event.json() == json.loads(json.dumps(NotificationSerializer(n).data))
    assert event.json()["title"] == "通知 1" and event.json()["urgency"] == "high"


def test_stream_is_not_buffered_compressed_or_etagged(personas, stream):
    token, _ = token_for(personas["leo"])
    client = stream(token=token, headers={"Accept-Encoding": "gzip"})
    assert client.status == 200
    assert "content-encoding" not in client.headers
    assert "etag" not in client.headers
    assert client.headers["x-accel-buffering"] == "no"
    assert "no-cache" in client.headers["cache-control"]


def test_last_event_id_replays_only_newer_ones(personas, stream):
    leo = personas["leo"]
    token, _ = token_for(leo)
    first, second, third = (note(leo, i) for i in (1, 2, 3))
    by_header = stream(token=token, headers={"Last-Event-ID": str(first.pk)})
    ids = [by_header.next_event(WAIT), by_header.next_event(WAIT)]
    assert [e.id for e in ids] == [str(second.pk), str(third.pk)]
    by_query = stream(token=token, query={"last_event_id": third.pk})
    fresh = stream(token=token)  # no Last-Event-ID: from now on, no history
    fourth = note(leo, 4)
    assert by_query.next_event(WAIT).id == str(fourth.pk)
    assert fresh.next_event(WAIT).id == str(fourth.pk)


def test_another_users_events_never_appear(personas, stream):
    leo, bob = personas["leo"], personas["bob"]
    leo_token, _ = token_for(leo)
    bob_token, _ = token_for(bob)
    bob_history = note(bob, 1)
    leo_stream = stream(token=leo_token, headers={"Last-Event-ID": "0"})
    bob_stream = stream(token=bob_token)
    mine = note(leo, 2)
    got = [leo_stream.next_event(WAIT)]
    assert [e.id for e in got] == [str(mine.pk)]  # not bob's history, not bob's new one
    # Leo's event is out; bob's stream has woken and polled (0.5 s) since: nothing.
    assert bob_stream.next_event(1.5) is None
    assert bob_history.pk < mine.pk


def test_without_redis_polling_delivers_rows_nobody_announced(personas, stream, settings):
    """A row written with no notification_created signal (another process, no Redis)
    reaches the stream through polling."""
    leo = personas["leo"]
    token, _ = token_for(leo)
    client = stream(token=token)
    row = Notification.objects.create(recipient=leo, kind="system", title="轮询", dedup_key="p1")
    event = client.next_event(WAIT)
    assert event is not None and event.id == str(row.pk)


def test_redis_down_falls_back_to_polling(personas, stream, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    leo = personas["leo"]
    token, _ = token_for(leo)
    client = stream(token=token)
    n = note(leo, 1)  # publish fails (logged); the local wake-up and polling remain
    row = Notification.objects.create(recipient=leo, kind="system", title="轮询", dedup_key="p2")
    ids = [client.next_event(WAIT).id, client.next_event(WAIT).id]
    assert ids == [str(n.pk), str(row.pk)]
    assert not live.hub.redis_healthy.is_set()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis)")
def test_redis_pubsub_wakes_the_stream_without_polling(personas, stream, settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.GOVDESK_NOTIFY_STREAM_POLL_MS = 10_000  # polling alone would be far too slow
    leo = personas["leo"]
    token, _ = token_for(leo)
    client = stream(token=token)
    assert live.hub.redis_healthy.wait(WAIT), "the hub did not subscribe"
    # No wait for "the stream's first wait": a wake-up that comes before it is kept
    # (the stream clears its doorbell before each query, not after).
    row = Notification.objects.create(recipient=leo, kind="system", title="唤醒", dedup_key="r1")
    live.Hub().publish(leo.pk)  # as another process would (a fresh publisher)
    event = client.next_event(WAIT)
    assert event is not None and event.id == str(row.pk)


def test_stream_ends_after_its_lifetime_with_heartbeats(personas, stream, settings):
    settings.GOVDESK_NOTIFY_STREAM_SECONDS = 2
    settings.GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS = 0.3
    token, _ = token_for(personas["leo"])
    started = time.monotonic()
    client = stream(token=token)
    rest = client.events_until_end(timeout=WAIT)
    assert time.monotonic() - started >= 2  # never before its lifetime (a late end is no bug)
    assert rest.count(": ping") >= 2  # missed heartbeats are caught up, not skipped
    assert live.slots.in_use == 0


def test_signing_out_ends_the_stream_at_the_next_heartbeat(personas, stream, settings):
    settings.GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS = 0.3
    token, session = token_for(personas["leo"])
    client = stream(token=token)
    type(session).objects.filter(pk=session.pk).update(revoked_at=timezone.now())
    client.events_until_end(timeout=WAIT)


def test_ticket_is_single_use_and_bound_to_the_session(personas, stream, live_server):
    leo = personas["leo"]
    token, session = token_for(leo)
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.post("/api/v1/notifications/stream-ticket/")
    assert response.status_code == 201, response.content
    ticket = response.json()["ticket"]
    assert response.json()["expires_in"] == 60
    client = stream(query={"ticket": ticket})
    n = note(leo, 1)
    assert client.next_event(WAIT).id == str(n.pk)
    again = stream(query={"ticket": ticket})
    assert again.status == 401
    assert json.loads(again.body)["error"]["code"] == "stream_ticket_invalid"
    # A ticket of a session signed out since: refused.
    other = api.post("/api/v1/notifications/stream-ticket/").json()["ticket"]
    type(session).objects.filter(pk=session.pk).update(revoked_at=timezone.now())
    assert stream(query={"ticket": other}).status == 401


def test_ticket_expires(personas, stream, monkeypatch):
    leo = personas["leo"]
    _, session = token_for(leo)
    ticket, seconds = live.issue_ticket(leo, session)
    later, _ = live.issue_ticket(leo, session)
    now = time.time()
    monkeypatch.setattr(live, "clock", lambda: now + seconds + 1)
    expired = stream(query={"ticket": ticket})
    assert expired.status == 401
    monkeypatch.setattr(live, "clock", lambda: now + seconds - 1)
    assert stream(query={"ticket": later}).status == 200


def test_concurrent_redemption_lets_one_through(personas):
    leo = personas["leo"]
    _, session = token_for(leo)
    ticket, _ = live.issue_ticket(leo, session)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def redeem() -> None:
        barrier.wait()
        results.append(live.redeem_ticket(ticket))

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 1


def test_errors_are_json_envelopes_even_for_eventsource(personas, stream):
    anonymous = stream()
    assert anonymous.status == 401
    assert anonymous.headers["content-type"].startswith("application/json")
    assert json.loads(anonymous.body)["error"]["code"] == "not_authenticated"
    token, _ = token_for(personas["leo"])
    bad = stream(token=token, headers={"Last-Event-ID": "abc"})
    assert bad.status == 400
    assert json.loads(bad.body)["error"]["code"] == "stream_last_event_id_invalid"
    wrong = stream(query={"ticket": "not-a-ticket"})
    assert json.loads(wrong.body)["error"]["code"] == "stream_ticket_invalid"


@pytest.mark.parametrize("last_id", ["²", "١٢", "-1", "1e3"])
def test_a_last_event_id_that_is_not_ascii_digits_is_a_400(personas, last_id):
    # "²" and "١٢" pass str.isdigit() but not int(): they were a 500.
    response = client_for(personas["leo"]).get(
        "/api/v1/notifications/stream/", {"last_event_id": last_id}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "stream_last_event_id_invalid"


def test_streams_per_process_are_capped(personas, stream, settings):
    settings.GOVDESK_NOTIFY_STREAMS_PER_PROCESS = 1
    token, _ = token_for(personas["leo"])
    first = stream(token=token)
    refused = stream(token=token)
    assert refused.status == 503 and refused.headers["retry-after"] == "30"
    assert json.loads(refused.body)["error"]["code"] == "stream_capacity"
    first.close()
    _wait_for_free_slots()
    assert stream(token=token).status == 200


@requires_postgres
def test_a_rolled_back_notify_never_reaches_the_stream(personas, stream):
    leo = personas["leo"]
    token, _ = token_for(leo)
    client = stream(token=token)
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(recipient=leo, kind="system", title="撤销", dedup_key="rb")
        raise RuntimeError
    kept = note(leo, 2)
    assert client.next_event(WAIT).id == str(kept.pk)


def test_webpush_key(personas, settings):
    api = client_for(personas["leo"])
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = ""
    response = api.get("/api/v1/notifications/webpush-key/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "webpush_not_configured"
    private, public = generate_vapid_keys()
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT = "mailto:it@example.org"
    response = api.get("/api/v1/notifications/webpush-key/")
    assert response.status_code == 200 and response.json() == {"public_key": public}
    assert client_for(None).get("/api/v1/notifications/webpush-key/").status_code == 401


def test_a_stream_response_never_read_gives_its_slot_back(personas):
    """A response that was neither iterated nor closed (a client gone before the first
    byte) must not keep its slot: it is released when the response is collected."""
    api = client_for(personas["leo"])
    before = live.slots.in_use
    response = api.get("/api/v1/notifications/stream/")
    assert response.status_code == 200 and live.slots.in_use == before + 1
    del response
    gc.collect()
    assert live.slots.in_use == before
