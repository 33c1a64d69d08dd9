"""The fake video platform (天网, traffic and city cameras). Docs: docs/integrations.md#video.

Plain Python on 127.0.0.1, speaking the contract a city's video platform offers GovDesk:

* ``GET  <base>/api/cameras?cursor=<c>&limit=<n>`` — the camera change feed, oldest
  change first: every camera added, changed or removed since ``cursor`` (an opaque
  string; empty = from the beginning). ``{"cameras": [...], "cursor": "<next>",
  "more": bool}``; each entry carries the camera's ``revision`` (the change number, rising); a
  removed camera comes as ``{"id", "revision", "removed": true}``.
* ``POST <base>/api/play-urls`` ``{"camera_id", "viewer", "ttl_seconds"}`` — a short-lived
  signed HLS URL for one camera and one viewer: ``{"url", "expires_at"}``.
* ``GET  <base>/hls/<camera_id>/<file>?exp=&viewer=&sig=`` — the HLS playlist and its
  segments; the signature (HMAC-SHA256 with the platform's own play key over camera id,
  expiry and viewer) and the expiry are checked on every file, and the playlist's
  segment lines carry the same token. A forged or expired URL is a 403.

Both API calls are signed with the connector secret like every GovDesk outbound request
(``X-GovDesk-Timestamp`` / ``X-GovDesk-Signature``, cityfakes/signing.py); anything else
is a 401.
The stream is real H.264 HLS encoded once by Debian's ffmpeg (``/usr/bin/ffmpeg``) into a
temporary folder; without ffmpeg the HLS files answer 503 and ``ffmpeg_missing()`` names
the reason, so tests that need frames skip.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cityfakes import server
from cityfakes.server import FakeContext, Handler, Reply, Request, Router
from cityfakes.signing import verify

PREFIX = "/video"
CAMERA_TYPES = ("tianwang", "traffic", "city")
MAX_PAGE = 200
MAX_TTL = 3600
FFMPEG = "/usr/bin/ffmpeg"


def ffmpeg_missing() -> str | None:
    """Why the fake cannot serve a real stream here, or None when it can."""
    if not Path(FFMPEG).exists() and shutil.which("ffmpeg") is None:
        return "Debian's ffmpeg is not installed (.ci/run installs it)"
    return None


def encode_stream(folder: Path, seconds: int = 20) -> Path:
    """A real H.264 HLS stream (test pattern, 320×240, 10 fps, 2-second segments) in
    ``folder``; returns the playlist. Encoded once per fake: about a second of CPU."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    if playlist.exists():
        return playlist
    ffmpeg = FFMPEG if Path(FFMPEG).exists() else (shutil.which("ffmpeg") or FFMPEG)
    subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=10:duration={seconds}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-profile:v", "baseline",
            "-g", "10", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
            "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(folder / "seg%03d.ts"), str(playlist),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    return playlist


@dataclass
class Camera:
    id: str
    name: str
    type: str
    lat: float
    lng: float
    address: str
    owner_unit_code: str
    online: bool = True
    seq: int = 0
    removed: bool = False

    def as_json(self) -> dict[str, Any]:
        if self.removed:
            return {"id": self.id, "revision": self.seq, "removed": True}
        return {
            "id": self.id,
            "revision": self.seq,
            "name": self.name,
            "type": self.type,
            "location": {"lat": self.lat, "lng": self.lng, "address": self.address},
            "owner_unit_code": self.owner_unit_code,
            "online": self.online,
        }


@dataclass
class VideoPlatform:
    """The platform's state; tests change it directly (add, change, remove cameras,
    move the clock) and read ``play_requests`` to see what GovDesk asked for."""

    secret: str
    clock: Callable[[], float] = time.time
    play_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    stream_dir: Path | None = None
    cameras: dict[str, Camera] = field(default_factory=dict)
    play_requests: list[dict[str, Any]] = field(default_factory=list)
    hls_requests: list[tuple[str, int]] = field(default_factory=list)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- state, for tests and the demo ------------------------------------------------
    def put_camera(self, camera_id: str, **fields: Any) -> Camera:
        """Add a camera or change some of its fields; either is a new change in the feed."""
        with self._lock:
            self._seq += 1
            camera = self.cameras.get(camera_id)
            if camera is None:
                defaults: dict[str, Any] = {
                    "name": camera_id, "type": "city", "lat": 0.0, "lng": 0.0,
                    "address": "", "owner_unit_code": "",
                }  # fmt: skip
                camera = Camera(id=camera_id, **{**defaults, **fields})
                self.cameras[camera_id] = camera
            else:
                for key, value in fields.items():
                    setattr(camera, key, value)
                camera.removed = False
            camera.seq = self._seq
            return camera

    def remove_camera(self, camera_id: str) -> None:
        with self._lock:
            self._seq += 1
            camera = self.cameras[camera_id]
            camera.removed = True
            camera.seq = self._seq

    # --- signing ----------------------------------------------------------------------
    def _signature(self, camera_id: str, expires: int, viewer: str) -> str:
        message = f"{camera_id}\n{expires}\n{viewer}".encode()
        return hmac.new(self.play_key, message, hashlib.sha256).hexdigest()

    def play_token(self, camera_id: str, viewer: str, ttl: int) -> tuple[str, int]:
        expires = int(self.clock()) + ttl
        token = urllib.parse.urlencode(
            {"exp": expires, "viewer": viewer, "sig": self._signature(camera_id, expires, viewer)}
        )
        return token, expires

    def token_refusal(self, camera_id: str, query: dict[str, str]) -> str | None:
        """Why a play URL's token is refused (None: it is good)."""
        try:
            expires = int(query.get("exp", ""))
        except ValueError:
            return "bad_token"
        expected = self._signature(camera_id, expires, query.get("viewer", ""))
        if not hmac.compare_digest(expected, query.get("sig", "")):
            return "bad_signature"
        if self.clock() > expires:
            return "expired"
        return None

    # --- the HTTP contract ------------------------------------------------------------
    def __call__(self, req: Request) -> Reply:
        if req.path.startswith("/hls/") and req.method in ("GET", "HEAD"):
            return self._hls(req.path, req.query)
        if verify(self.secret, req.body, req.headers):
            return _json(401, {"error": "unauthorised"})
        if req.path == "/api/cameras" and req.method == "GET":
            return self._cameras(req.query)
        if req.path == "/api/play-urls" and req.method == "POST":
            return self._play_url(req.headers, req.body)
        return _json(404, {"error": "not_found"})

    def _cameras(self, query: dict[str, str]) -> Reply:
        try:
            after = int(query.get("cursor") or 0)
            limit = int(query.get("limit") or 100)
        except ValueError:
            return _json(400, {"error": "bad_cursor"})
        limit = max(1, min(limit, MAX_PAGE))
        with self._lock:
            changed = sorted(
                (c for c in self.cameras.values() if c.seq > after), key=lambda c: c.seq
            )
            page = changed[:limit]
            cameras = [c.as_json() for c in page]
        cursor = str(page[-1].seq) if page else str(after)
        return _json(200, {"cameras": cameras, "cursor": cursor, "more": len(changed) > limit})

    def _play_url(self, headers: dict[str, str], body: bytes) -> Reply:
        try:
            data = json.loads(body or b"{}")
            camera_id = str(data["camera_id"])
            viewer = str(data["viewer"])
            ttl = int(data.get("ttl_seconds", 300))
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": "bad_request"})
        camera = self.cameras.get(camera_id)
        if camera is None or camera.removed:
            return _json(404, {"error": "no_such_camera"})
        if not camera.online:
            return _json(409, {"error": "camera_offline"})
        ttl = max(1, min(ttl, MAX_TTL))
        token, expires = self.play_token(camera_id, viewer, ttl)
        host = headers.get("host", "127.0.0.1")
        url = f"http://{host}{PREFIX}/hls/{urllib.parse.quote(camera_id)}/index.m3u8?{token}"
        self.play_requests.append({"camera_id": camera_id, "viewer": viewer, "ttl": ttl})
        return _json(200, {"url": url, "expires_at": expires})

    def _hls(self, path: str, query: dict[str, str]) -> Reply:
        parts = path.split("/")  # "", "hls", camera, file
        if len(parts) != 4 or not parts[3] or "/" in parts[3] or parts[3].startswith("."):
            return _json(404, {"error": "not_found"}, cors=True)
        camera_id, name = urllib.parse.unquote(parts[2]), parts[3]
        refusal = self.token_refusal(camera_id, query)
        if refusal is not None:
            self.hls_requests.append((name, 403))
            return _json(403, {"error": refusal}, cors=True)
        camera = self.cameras.get(camera_id)
        if camera is None or camera.removed:
            return _json(404, {"error": "no_such_camera"}, cors=True)
        if self.stream_dir is None:
            return _json(503, {"error": ffmpeg_missing() or "no stream"}, cors=True)
        file = self.stream_dir / name
        if not file.is_file():
            return _json(404, {"error": "not_found"}, cors=True)
        self.hls_requests.append((name, 200))
        if name.endswith(".m3u8"):
            token = urllib.parse.urlencode(
                [(k, query[k]) for k in ("exp", "viewer", "sig") if k in query]
            )
            lines = [
                f"{line}?{token}" if line and not line.startswith("#") else line
                for line in file.read_text("utf-8").splitlines()
            ]
            body = ("\n".join(lines) + "\n").encode()
            return 200, body, {**CORS, "Content-Type": "application/vnd.apple.mpegurl"}
        return 200, file.read_bytes(), {**CORS, "Content-Type": "video/mp2t"}


CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def _json(status: int, payload: Any, *, cors: bool = False) -> Reply:
    headers = {"Content-Type": "application/json"}
    if cors:
        headers.update(CORS)
    return status, json.dumps(payload, ensure_ascii=False).encode(), headers


def make_platform(
    secret: str, *, with_stream: bool = True, folder: Path | None = None
) -> VideoPlatform:
    """A platform; with ffmpeg present it encodes its stream into ``folder`` (a new
    temporary folder by default)."""
    platform = VideoPlatform(secret=secret)
    if with_stream and ffmpeg_missing() is None:
        folder = folder or Path(tempfile.mkdtemp(prefix="govdesk-video-"))
        encode_stream(folder)
        platform.stream_dir = folder
    return platform


def seed_demo(platform: VideoPlatform) -> None:
    """A few cameras of each kind, owned by the demo city's units (by unit code:
    the police bureau XC-GA, the government office XC-OFF, the district XC-YC)."""
    rows = [
        ("TW-0001", "人民广场东口", "tianwang", 30.6586, 104.0648, "人民广场东侧路口", "XC-GA"),
        ("TW-0002", "火车站北广场", "tianwang", 30.6960, 104.0735, "火车站北广场", "XC-GA"),
        ("TR-0101", "解放路与新华路口", "traffic", 30.6671, 104.0712, "解放路新华路口", "XC-GA"),
        ("TR-0102", "滨江大道中段", "traffic", 30.6502, 104.0830, "滨江大道 88 号", "XC-GA"),
        ("CT-0201", "市政府大院", "city", 30.6601, 104.0633, "府前街 1 号", "XC-OFF"),
        ("CT-0202", "城南公园", "city", 30.6302, 104.0600, "城南公园正门", "XC-YC"),
    ]  # fmt: skip
    for camera_id, name, kind, lat, lng, address, owner in rows:
        platform.put_camera(
            camera_id, name=name, type=kind, lat=lat, lng=lng, address=address,
            owner_unit_code=owner,
        )  # fmt: skip


def make(context: FakeContext) -> Handler:
    """The factory ``python -m cityfakes serve`` calls (FAKES): the demo's platform with
    its six cameras and a real stream when ffmpeg is installed."""
    platform = make_platform(context.secret)
    seed_demo(platform)
    return platform


@contextmanager
def serve(platform: VideoPlatform, port: int = 0) -> Iterator[str]:
    """Serve ``platform`` under ``/video/`` on 127.0.0.1 (a free port by default) in a
    thread, as ``python -m cityfakes serve`` does; yields the connector's base URL
    (``http://127.0.0.1:<port>/video``)."""
    with server.serve(Router({"video": platform}), port=port) as base:
        yield base + PREFIX
