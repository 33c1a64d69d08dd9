"""A Janus configuration written into a folder, for the demo, the tests and the
docker image. Docs: docs/meetings.md#janus-configuration.

Plain Python (no Django). Only what GovDesk uses is loaded: the VideoRoom plugin, the
HTTP and WebSocket transports (the Janus API for browsers; the admin API on its own
loopback port for GovDesk) and the sample event handler, which POSTs every session,
handle and VideoRoom event to GovDesk's event endpoint. Stored-token authentication
(``token_auth = true`` without ``token_auth_secret``) is on: a browser must present a
token GovDesk added through the admin API (``add_token``), or Janus refuses it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")
BINARY = "janus"

KEEP_PLUGINS = {"libjanus_videoroom.so"}
KEEP_TRANSPORTS = {"libjanus_http.so", "libjanus_websockets.so"}
KEEP_EVENTS = {"libjanus_sampleevh.so"}


def binary() -> str | None:
    """The janus executable on PATH (Debian: /usr/bin/janus), or None."""
    return shutil.which(os.environ.get("GOVDESK_JANUS_BINARY", BINARY))


def lib_dir() -> Path:
    found = os.environ.get("GOVDESK_JANUS_LIB_DIR")
    if found:
        return Path(found)
    for candidate in (LIB_DIR, Path("/usr/lib/janus"), Path("/usr/local/lib/janus")):
        if (candidate / "plugins").is_dir():
            return candidate
    return LIB_DIR


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _others(folder: Path, keep: set[str]) -> str:
    """The .so files of ``folder`` that Janus must not load (it loads all by default)."""
    if not folder.is_dir():
        return ""
    names = sorted(p.name for p in folder.iterdir() if p.suffix == ".so" and p.name not in keep)
    return ",".join(names)


def _q(value: str) -> str:
    # libconfig strings are double-quoted with C escapes: JSON's quoting is the same.
    return json.dumps(value)


@dataclass
class JanusConfig:
    """Everything that differs between deployments; the rest is fixed below."""

    admin_secret: str
    room_admin_key: str
    event_url: str = ""  # GovDesk's /api/v1/meetings/janus-events/ ('' = no events)
    event_user: str = "janus"
    event_password: str = ""
    bind_host: str = "127.0.0.1"  # where the Janus API and WebSockets listen
    http_port: int = 8088
    ws_port: int = 8188
    admin_host: str = "127.0.0.1"  # the admin API: GovDesk only, never browsers
    admin_port: int = 7088
    rtp_port_range: str = "20000-20199"
    stun_server: str = ""  # '' on an intranet: host candidates only (docs/meetings.md)
    stun_port: int = 3478
    nat_1_1_mapping: str = ""
    ice_enforce_list: str = ""
    debug_level: int = 3
    session_timeout: int = 60
    extra_general: dict[str, str] = field(default_factory=dict)

    def files(self) -> dict[str, str]:
        lib = lib_dir()
        nat = []
        if self.stun_server:
            nat += [f"stun_server = {_q(self.stun_server)}", f"stun_port = {self.stun_port}"]
        if self.nat_1_1_mapping:
            nat.append(f"nat_1_1_mapping = {_q(self.nat_1_1_mapping)}")
        if self.ice_enforce_list:
            nat.append(f"ice_enforce_list = {_q(self.ice_enforce_list)}")
        nat.append('ice_ignore_list = "vmnet,docker,veth"')
        janus = f"""general: {{
    configs_folder = {_q("@CONFIGS@")}
    plugins_folder = {_q(str(lib / "plugins"))}
    transports_folder = {_q(str(lib / "transports"))}
    events_folder = {_q(str(lib / "events"))}
    loggers_folder = {_q(str(lib / "loggers"))}
    debug_level = {self.debug_level}
    admin_secret = {_q(self.admin_secret)}
    token_auth = true
    session_timeout = {self.session_timeout}
    server_name = "GovDesk meetings"
}}
media: {{
    rtp_port_range = {_q(self.rtp_port_range)}
}}
nat: {{
    {chr(10).join("    " + line for line in nat).strip()}
}}
plugins: {{
    disable = {_q(_others(lib / "plugins", KEEP_PLUGINS))}
}}
transports: {{
    disable = {_q(_others(lib / "transports", KEEP_TRANSPORTS))}
}}
loggers: {{
    disable = {_q(_others(lib / "loggers", set()))}
}}
events: {{
    broadcast = {"true" if self.event_url else "false"}
    disable = {_q(_others(lib / "events", KEEP_EVENTS))}
    stats_period = 0
}}
"""
        http = f"""general: {{
    json = "plain"
    base_path = "/janus"
    http = true
    port = {self.http_port}
    ip = {_q(self.bind_host)}
    https = false
}}
admin: {{
    admin_base_path = "/admin"
    admin_http = true
    admin_port = {self.admin_port}
    admin_ip = {_q(self.admin_host)}
    admin_https = false
}}
cors: {{
}}
"""
        ws = f"""general: {{
    json = "plain"
    ws = true
    ws_port = {self.ws_port}
    ws_ip = {_q(self.bind_host)}
    wss = false
}}
admin: {{
    admin_ws = false
    admin_wss = false
}}
"""
        videoroom = f"""general: {{
    admin_key = {_q(self.room_admin_key)}
    lock_rtp_forward = true
    events = true
}}
"""
        evh = f"""general: {{
    enabled = {"true" if self.event_url else "false"}
    events = "sessions,handles,plugins"
    grouping = true
    json = "plain"
    backend = {_q(self.event_url or "http://127.0.0.1:9/")}
    backend_user = {_q(self.event_user)}
    backend_pwd = {_q(self.event_password)}
    max_retransmissions = 5
    retransmissions_backoff = 200
}}
"""
        return {
            "janus.jcfg": janus,
            "janus.transport.http.jcfg": http,
            "janus.transport.websockets.jcfg": ws,
            "janus.plugin.videoroom.jcfg": videoroom,
            "janus.eventhandler.sampleevh.jcfg": evh,
        }

    def write(self, folder: Path) -> Path:
        """Write the configuration files into ``folder``; returns janus.jcfg's path."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files().items():
            path = folder / name
            path.write_text(text.replace("@CONFIGS@", str(folder)), encoding="utf-8")
            path.chmod(0o600)  # the admin secret is in it
        return folder / "janus.jcfg"

    def command(self, folder: Path, executable: str | None = None) -> list[str]:
        """argv that runs Janus in the foreground on the configuration in ``folder``."""
        return [
            executable or binary() or BINARY,
            "--configs-folder",
            str(folder),
            "--config",
            str(folder / "janus.jcfg"),
            "--disable-colors",
            "--log-stdout",
        ]

    def api_url(self, host: str | None = None) -> str:
        return f"http://{host or self.bind_host}:{self.http_port}/janus"

    def ws_url(self, host: str | None = None) -> str:
        return f"ws://{host or self.bind_host}:{self.ws_port}/"

    def admin_url(self) -> str:
        return f"http://{self.admin_host}:{self.admin_port}/admin"
