"""Debian's Prosody started natively on loopback for the XMPP tests, and a real slixmpp
client as the person who receives the messages (docs/notifications.md#office-im-per-person-xmpp).

``prosody_server(tmp_path, users)`` writes a config in a temp dir (a free c2s port on
127.0.0.1, no s2s, no HTTP, internal_hashed accounts), creates the accounts with
``prosodyctl register`` and runs ``prosody -F`` until the test ends. Skips with the
reason when Prosody is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from notifications.channels.xmpp import _close_loop

DOMAIN = "govdesk.test"


@dataclass
class Prosody:
    host: str
    port: int
    domain: str
    directory: Path
    ca_file: str  # the self-signed server certificate, trusted by the clients

    def jid(self, user: str) -> str:
        return f"{user}@{self.domain}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certificate(directory: Path) -> None:
    """A self-signed certificate for the domain, as an intranet CA would issue."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(DOMAIN), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _config(directory: Path, port: int) -> str:
    return f"""
run_as_root = true
pidfile = "{directory}/prosody.pid"
data_path = "{directory}/data"
plugin_paths = {{}}
log = {{ info = "{directory}/prosody.log"; error = "{directory}/error.log" }}
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping"; "offline"; "posix" }}
modules_disabled = {{ "s2s"; "http"; "admin_telnet"; "register" }}
c2s_ports = {{ {port} }}
c2s_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{}}
http_ports = {{}}
https_ports = {{}}
ssl = {{ certificate = "{directory}/server.crt"; key = "{directory}/server.key" }}
c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
VirtualHost "{DOMAIN}"
"""


@contextmanager
def prosody_server(directory: Path, users: dict[str, str]) -> Iterator[Prosody]:
    prosody, prosodyctl = shutil.which("prosody"), shutil.which("prosodyctl")
    if not prosody or not prosodyctl:
        pytest.skip("Prosody is not installed (apt-get install prosody; .ci/run does)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    port = _free_port()
    config = directory / "prosody.cfg.lua"
    _certificate(directory)
    config.write_text(_config(directory, port), "utf-8")
    env = {**os.environ, "HOME": str(directory)}
    for user, password in users.items():
        subprocess.run(
            [prosodyctl, "--config", str(config), "register", user, DOMAIN, password],
            check=True, capture_output=True, timeout=60, env=env,
        )  # fmt: skip
    proc = subprocess.Popen(
        [prosody, "--config", str(config), "-F"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (directory / "error.log").read_text("utf-8", "replace")[-2000:]
                        if (directory / "error.log").exists()
                        else ""
                    )
                    raise RuntimeError(f"Prosody did not start: {log}") from None
                time.sleep(0.1)
        yield Prosody("127.0.0.1", port, DOMAIN, directory, str(directory / "server.crt"))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@dataclass
class Inbox:
    """A person's XMPP client, signed in, collecting the chat messages it receives."""

    messages: list[dict[str, str]] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


@contextmanager
def recipient(server: Prosody, user: str, password: str) -> Iterator[Inbox]:
    """Signs ``user`` in with slixmpp in a thread; yields its inbox."""
    import slixmpp

    inbox = Inbox()
    loop = asyncio.new_event_loop()
    client = slixmpp.ClientXMPP(server.jid(user) + "/phone", password, loop=loop)
    client.enable_plaintext, client.enable_starttls, client.enable_direct_tls = False, True, False
    client.use_aiodns = False
    client.ca_certs = Path(server.ca_file)

    def on_session(_event: object) -> None:
        client.send_presence()
        inbox.ready.set()

    def on_message(stanza: object) -> None:
        if stanza["type"] in ("chat", "normal"):  # type: ignore[index]
            with inbox.arrived:
                inbox.messages.append(
                    {"from": str(stanza["from"].bare), "body": str(stanza["body"]),  # type: ignore[index]
                     "id": str(stanza["id"])}  # type: ignore[index]
                )  # fmt: skip
                inbox.arrived.notify_all()

    client.add_event_handler("session_start", on_session)
    client.add_event_handler("message", on_message)

    def run() -> None:
        asyncio.set_event_loop(loop)
        client.connect(server.host, server.port)
        loop.run_forever()
        _close_loop(loop)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        if not inbox.ready.wait(20):
            raise RuntimeError("the recipient's XMPP client did not sign in")
        yield inbox
    finally:

        def stop() -> None:
            client.abort()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        thread.join(10)
