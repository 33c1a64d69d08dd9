"""A small client for Janus's HTTP API and admin API. Docs: docs/meetings.md#rooms-on-janus.

Plain Python (no Django): the Django side passes URLs and secrets from settings. Each
VideoRoom request is synchronous in Janus (create, destroy, exists, allowed, kick,
moderate, listparticipants), so one session with one handle, opened per call and
destroyed afterwards, is all GovDesk needs: no long poll, no keep-alive.

GovDesk's own Janus session needs a token too (``token_auth`` is on); it adds a
service token through the admin API before it opens the session.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

VIDEOROOM = "janus.plugin.videoroom"
TIMEOUT = 10.0


class JanusError(Exception):
    """Janus answered with an error, or could not be reached (``code`` 0)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class JanusUnreachable(JanusError):
    pass


def _post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise JanusError(f"not an http(s) URL: {url!r}")
    payload = {**body, "transaction": secrets.token_hex(8)}
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise JanusUnreachable(f"Janus at {url}: {exc}") from exc
    if answer.get("janus") == "error":
        error = answer.get("error") or {}
        raise JanusError(str(error.get("reason", "error")), int(error.get("code", 0)))
    return dict(answer)


def _plugin_data(answer: dict[str, Any]) -> dict[str, Any]:
    data = dict((answer.get("plugindata") or {}).get("data") or {})
    if data.get("videoroom") == "event" and "error_code" in data:
        raise JanusError(str(data.get("error", "error")), int(data["error_code"]))
    if "error_code" in data:
        raise JanusError(str(data.get("error", "error")), int(data["error_code"]))
    return data


@dataclass
class Janus:
    """One Janus server: the API URL (``http://host:8088/janus``) and the admin API URL
    (``http://127.0.0.1:7088/admin``) with its secret, and the VideoRoom admin key."""

    api_url: str
    admin_url: str
    admin_secret: str
    room_admin_key: str
    service_token: str = ""

    # --- admin API ------------------------------------------------------------------

    def admin(self, request: str, **fields: Any) -> dict[str, Any]:
        return _post(
            self.admin_url, {"janus": request, "admin_secret": self.admin_secret, **fields}
        )

    def ping(self) -> bool:
        try:
            return self.admin("ping").get("janus") == "pong"
        except JanusError:
            return False

    def add_token(self, token: str) -> None:
        """Allow ``token`` to use the Janus API, for the VideoRoom plugin only."""
        self.admin("add_token", token=token, plugins=[VIDEOROOM])

    def remove_token(self, token: str) -> None:
        try:
            self.admin("remove_token", token=token)
        except JanusError as exc:
            if isinstance(exc, JanusUnreachable):
                raise
            # Already gone (Janus restarted, or removed twice): nothing to do.

    def tokens(self) -> set[str]:
        answer = self.admin("list_tokens")
        return {str(t.get("token")) for t in (answer.get("data") or {}).get("tokens", [])}

    def handle_info(self, session: int, handle: int) -> dict[str, Any]:
        answer = _post(
            f"{self.admin_url}/{session}/{handle}",
            {"janus": "handle_info", "admin_secret": self.admin_secret},
        )
        return dict(answer.get("info") or {})

    def sessions(self) -> list[int]:
        return [int(s) for s in self.admin("list_sessions").get("sessions", [])]

    # --- Janus API: GovDesk's own VideoRoom handle ----------------------------------

    def _token(self) -> str:
        if not self.service_token:
            self.service_token = "govdesk-" + secrets.token_urlsafe(24)
        self.add_token(self.service_token)
        return self.service_token

    @contextmanager
    def handle(self) -> Iterator[VideoRoomHandle]:
        token = self._token()
        created = _post(self.api_url, {"janus": "create", "token": token})
        session = int(created["data"]["id"])
        session_url = f"{self.api_url}/{session}"
        try:
            attached = _post(session_url, {"janus": "attach", "plugin": VIDEOROOM, "token": token})
            yield VideoRoomHandle(f"{session_url}/{int(attached['data']['id'])}", token, self)
        finally:
            with suppress(JanusError):
                _post(session_url, {"janus": "destroy", "token": token})


@dataclass
class VideoRoomHandle:
    url: str
    token: str
    janus: Janus

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = _post(self.url, {"janus": "message", "token": self.token, "body": body})
        return _plugin_data(answer)

    def exists(self, room: int) -> bool:
        return bool(self.request({"request": "exists", "room": room}).get("exists"))

    def create(
        self,
        room: int,
        *,
        description: str,
        secret: str,
        pin: str,
        allowed: list[str],
        publishers: int = 16,
        bitrate: int = 512_000,
    ) -> None:
        """A VideoRoom that only the tokens in ``allowed`` may join, with ``pin``; its
        ``secret`` is GovDesk's alone (edit, kick, destroy)."""
        self.request(
            {
                "request": "create",
                "admin_key": self.janus.room_admin_key,
                "room": room,
                "description": description[:100],
                "secret": secret,
                "pin": pin,
                "is_private": True,
                "allowed": allowed,
                "publishers": publishers,
                "bitrate": bitrate,
                "fir_freq": 10,
                "notify_joining": True,
                "audiolevel_event": True,
                "permanent": False,
            }
        )

    def allow(self, room: int, secret: str, tokens: list[str], action: str = "add") -> None:
        self.request(
            {"request": "allowed", "room": room, "secret": secret, "action": action,
             "allowed": tokens}
        )  # fmt: skip

    def edit(self, room: int, secret: str, **changes: Any) -> None:
        self.request({"request": "edit", "room": room, "secret": secret, **changes})

    def destroy(self, room: int, secret: str) -> None:
        try:
            self.request({"request": "destroy", "room": room, "secret": secret})
        except JanusError as exc:
            if exc.code != 426:  # JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM: already gone
                raise

    def participants(self, room: int) -> list[dict[str, Any]]:
        data = self.request({"request": "listparticipants", "room": room})
        return list(data.get("participants") or [])

    def kick(self, room: int, secret: str, feed_id: int) -> None:
        self.request({"request": "kick", "room": room, "secret": secret, "id": feed_id})

    def moderate(self, room: int, secret: str, feed_id: int, mid: str, mute: bool) -> None:
        self.request(
            {"request": "moderate", "room": room, "secret": secret, "id": feed_id,
             "mid": mid, "mute": mute}
        )  # fmt: skip
