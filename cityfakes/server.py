"""The loopback HTTP server every city fake runs in (docs/integrations.md#fakes).

A fake is a *handler*: a callable that gets the parsed ``Request`` (its path relative to
the fake's prefix) and answers ``(status, payload)`` or ``(status, payload, headers)``;
``payload`` is JSON-encoded, except ``bytes`` (sent as is) and ``None`` (empty body).
``Router`` mounts several fakes under path prefixes on one port (``/video/...``), as
``python -m cityfakes serve`` does; ``serve`` runs one in a thread for a test. Plain
Python, loopback only: the fakes accept anything signed with demo secrets.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the fake's prefix, always starting with "/"
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Reply = tuple[int, Any] | tuple[int, Any, Mapping[str, str]]
Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class FakeContext:
    """What ``python -m cityfakes serve`` gives each fake's factory."""

    name: str  # the connector's name, also the fake's path prefix
    secret: str  # the shared secret of that connector (demo: generated under var/)
    govdesk_url: str = ""  # GovDesk's base URL, for fakes that push webhooks
    options: dict[str, str] = field(default_factory=dict)


class Router:
    """Mounts handlers under path prefixes (``{"video": video_fake}``); a handler sees
    the path without its prefix (``/video/cameras`` → ``/cameras``). ``GET /`` lists
    the mounted fakes."""

    def __init__(self, routes: Mapping[str, Handler]) -> None:
        self.routes = dict(routes)

    def __call__(self, req: Request) -> Reply:
        head, _, rest = req.path.lstrip("/").partition("/")
        handler = self.routes.get(head)
        if handler is not None:
            return handler(replace(req, path="/" + rest))
        if req.path == "/" and req.method == "GET":
            return 200, {"fakes": sorted(self.routes)}
        return 404, {"error": "no fake mounted at " + req.path}


def _encode(payload: Any) -> tuple[bytes, str | None]:
    if payload is None:
        return b"", None
    if isinstance(payload, bytes):
        return payload, "application/octet-stream"
    return json.dumps(payload, ensure_ascii=False).encode(), "application/json"


def _request_handler(handler: Handler) -> type[BaseHTTPRequestHandler]:
    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            req = Request(
                self.command,
                split.path or "/",
                dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            try:
                reply = handler(req)
            except Exception as exc:  # a fake's bug shows as a 500, never as a hang
                reply = (500, {"error": f"fake failed: {exc.__class__.__name__}"})
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
            if self.command != "HEAD":
                self.wfile.write(out)

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle
        do_PATCH = _handle
        do_DELETE = _handle
        do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _H


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def make_server(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A bound server, not yet serving."""
    if host not in LOOPBACK:
        raise ValueError(f"the city fakes listen on loopback only, not {host!r}")
    return _Server((host, port), _request_handler(handler))


def base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


@contextmanager
def serve(handler: Handler, port: int = 0) -> Iterator[str]:
    """Runs ``handler`` on 127.0.0.1 (a free port by default) in a thread; yields its
    base URL (no trailing slash) and stops it on exit."""
    server = make_server(handler, port=port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
