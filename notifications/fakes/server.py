"""A tiny loopback HTTP server for the provider fakes (docs/notifications.md#demo-fakes).

A fake is a *handler*: a callable that gets the parsed request (:class:`Received`)
and answers ``(status, payload)`` or ``(status, payload, headers)``. ``payload`` is
JSON-encoded, except ``bytes`` (sent as is) and ``None`` (empty body). Every request
is kept in ``FakeServer.received``; fakes that accept a delivery also write one
normalised line to a :class:`Journal`, which the CLI serves as ``GET /_received``.

Plain Python (no Django): the tests, the demo (``python -m notifications.fakes``)
and the bench all run the same code.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# A handler gets the request and returns (status, payload) or (status, payload, headers).
Reply = tuple[int, Any] | tuple[int, Any, Mapping[str, str]]
Handler = Callable[[Received], Reply]


class Journal:
    """What the fakes accepted, in arrival order, each line numbered (``seq``) and
    stamped with the wall-clock ``received_at`` (seconds since the epoch), so a
    client can ask for "everything after seq N" and measure delivery latency."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._clock = clock

    def record(self, service: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            line = {"seq": next(self._seq), "service": service, "received_at": self._clock()}
            line.update(fields)
            self._lines.append(line)
            return line

    def since(self, seq: int = 0, service: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self._lines)
        return [
            line
            for line in lines
            if line["seq"] > seq and (service is None or line["service"] == service)
        ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._lines)


@dataclass
class FakeServer:
    handler: Handler
    received: list[Received] = field(default_factory=list)
    url: str = ""


class Router:
    """Mounts handlers under path prefixes (``{"/fcm/": fcm_fake, ...}``); the
    mounted handler sees the path without its prefix (``/fcm/token`` → ``/token``)."""

    def __init__(self, routes: Mapping[str, Handler], fallback: Handler | None = None) -> None:
        # Longest prefix first, so "/a/b/" wins over "/a/".
        self.routes = sorted(routes.items(), key=lambda item: -len(item[0]))
        self.fallback = fallback

    def __call__(self, req: Received) -> Reply:
        for prefix, handler in self.routes:
            if req.path.startswith(prefix):
                return handler(replace(req, path="/" + req.path[len(prefix) :]))
        if self.fallback is not None:
            return self.fallback(req)
        return 404, {"error": "no fake mounted at " + req.path}


def _encode(payload: Any) -> tuple[bytes, str | None]:
    if payload is None:
        return b"", None
    if isinstance(payload, bytes):
        return payload, "application/octet-stream"
    return json.dumps(payload, ensure_ascii=False).encode(), "application/json"


def _request_handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            req = Received(
                self.command,
                split.path,
                dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            fake.received.append(req)
            try:
                reply = fake.handler(req)
            except Exception as exc:  # a fake's bug must show as a 500, not a hang
                reply = (500, {"error": f"fake failed: {exc!r}"})
            status, payload = reply[0], reply[1]
            headers: Mapping[str, str] = reply[2] if len(reply) > 2 else {}
            out, content_type = _encode(payload)
            self.send_response(status)
            if content_type and "content-type" not in {k.lower() for k in headers}:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle
        do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _H


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # firebase-admin send_each opens up to 500 connections at once
    daemon_threads = True


def make_server(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> tuple[Any, FakeServer]:
    """A bound, not yet serving server and its FakeServer record (``url`` set)."""
    if host not in ("127.0.0.1", "::1", "localhost"):
        # The fakes accept anything signed with demo keys: never on a real interface.
        raise ValueError(f"the fakes listen on loopback only, not {host!r}")
    fake = FakeServer(handler)
    server = _Server((host, port), _request_handler(fake))
    fake.url = f"http://{host}:{server.server_address[1]}/"
    return server, fake


@contextmanager
def serve(handler: Handler, port: int = 0) -> Iterator[FakeServer]:
    """Runs ``handler`` on 127.0.0.1 (an ephemeral port by default) in a thread."""
    server, fake = make_server(handler, port=port)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
