"""Debian's Janus started natively on loopback for the tests, on free ports, with a
configuration generated into a temporary folder (api/meetings/janus/config.py).

Docs: docs/meetings.md#tests. ``requires_janus`` skips, with the reason printed, when
the ``janus`` binary is absent (.ci/run installs it).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.meetings.janus.client import Janus
from api.meetings.janus.config import JanusConfig, binary, free_port

requires_janus = pytest.mark.skipif(
    binary() is None, reason="Janus is not installed (apt-get install janus; .ci/run does)"
)


@dataclass
class RunningJanus:
    config: JanusConfig
    folder: Path
    proc: subprocess.Popen
    log: Path

    @property
    def client(self) -> Janus:
        return Janus(
            api_url=self.config.api_url(),
            admin_url=self.config.admin_url(),
            admin_secret=self.config.admin_secret,
            room_admin_key=self.config.room_admin_key,
        )

    def settings(self) -> dict[str, object]:
        """GovDesk settings that point at this Janus."""
        return {
            "GOVDESK_JANUS_API_URL": self.config.api_url(),
            "GOVDESK_JANUS_ADMIN_URL": self.config.admin_url(),
            "GOVDESK_JANUS_ADMIN_SECRET": self.config.admin_secret,
            "GOVDESK_JANUS_ROOM_ADMIN_KEY": self.config.room_admin_key,
            "GOVDESK_JANUS_CLIENT_URLS": [self.config.ws_url(), self.config.api_url()],
            "GOVDESK_JANUS_EVENT_PASSWORD": self.config.event_password,
        }

    def env(self) -> dict[str, str]:
        values = self.settings()
        return {
            key: ",".join(v) if isinstance(v, list) else str(v)  # type: ignore[arg-type]
            for key, v in values.items()
        }

    def restart(self) -> None:
        """Stop and start again on the same ports: rooms and tokens are gone, as after
        a real restart (Janus keeps them in memory)."""
        self.stop()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.config.command(self.folder),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _wait_ready(self, 20.0)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_janus(folder: Path, event_url: str = "", timeout: float = 20.0) -> RunningJanus:
    config = JanusConfig(
        admin_secret=secrets.token_urlsafe(16),
        room_admin_key=secrets.token_urlsafe(16),
        event_url=event_url,
        event_password=secrets.token_urlsafe(16),
        http_port=free_port(),
        ws_port=free_port(),
        admin_port=free_port(),
    )
    conf = folder / "conf"
    config.write(conf)
    log = folder / "janus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            config.command(conf), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    running = RunningJanus(config, conf, proc, log)
    _wait_ready(running, timeout)
    return running


def _wait_ready(running: RunningJanus, timeout: float) -> None:
    proc = running.proc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"janus exited ({proc.returncode}):\n{running.log_tail()}")
        client = running.client
        if client.ping():
            try:
                client.tokens()
                with client.handle():
                    return
            except Exception:  # the HTTP transport is not up yet
                pass
        time.sleep(0.1)
    running.stop()
    raise AssertionError(f"janus did not answer in {timeout}s:\n{running.log_tail()}")
