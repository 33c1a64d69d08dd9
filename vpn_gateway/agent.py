"""The gateway agent: keeps the WireGuard interface's peers equal to the API's
approved list and reports each peer's handshake and counters. Docs: docs/vpn.md#the-gateway-agent.

Every ``interval`` seconds it

1. GETs ``/api/v1/vpn/agent/peers/`` with its own credential (``Authorization:
   Agent <credential>``; the credential is read from a file and never logged),
2. validates the whole list (vpn_gateway.peerlist: schema, keys, addresses inside
   the pool, duplicates, digest, signature, version not older than the last one),
3. applies it atomically — only when the peers differ from the applied ones
   (``PeerList.peers_sha256``, which leaves out the version and the generation time)
   or the interface lost them — : the interface's own lines (``wg showconf``: key,
   port) and the peer set are written to a temporary file and handed to ``wg
   syncconf`` in one call, which adds, changes and removes peers together; "applied"
   is logged only then,
4. keeps it as the last good list (``<state-dir>/peers.json``, replaced by rename),
5. POSTs ``wg show <interface> dump`` to ``/api/v1/vpn/agent/status/``.

When the API cannot be reached or sends something invalid, the interface keeps the
peers it has and the agent tries again at the next interval. On start it applies the
last good list from the state directory before the first fetch, so a restarted
gateway serves the peers it had even while the API is down.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import logging
import os
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vpn_gateway import peerlist
from vpn_gateway.config import interface_section, render_server_peers

logger = logging.getLogger("vpn_gateway.agent")

PEERS_PATH = "/api/v1/vpn/agent/peers/"
STATUS_PATH = "/api/v1/vpn/agent/status/"
STATE_FILE = "peers.json"
USER_AGENT = "govdesk-vpn-agent/1"


class AgentError(RuntimeError):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would send the credential to wherever it points: refuse to follow.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def check_api_url(url: str, *, insecure_loopback: bool) -> str:
    """HTTPS only; plain HTTP only to a loopback address with --insecure-loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and insecure_loopback:
        try:
            host = ipaddress.ip_address(parts.hostname or "")
        except ValueError:
            host = None
        if host is not None and host.is_loopback:
            return url.rstrip("/")
        raise AgentError("--insecure-loopback allows http:// only to 127.0.0.1 or ::1")
    raise AgentError("the API URL must be https:// (http://127.0.0.1 needs --insecure-loopback)")


def read_credential(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AgentError(f"cannot read the credential file {path}: {exc.strerror}") from None
    if mode & 0o077:
        logger.warning("credential file %s is readable by others; chmod 600 it", path)
    if not text or any(ch.isspace() for ch in text) or len(text) > 256:
        raise AgentError(f"the credential file {path} does not hold one credential")
    return text


@dataclass(frozen=True)
class PeerStatus:
    public_key: str
    endpoint: str | None
    latest_handshake: int | None  # unix seconds; None when never
    rx_bytes: int
    tx_bytes: int

    def as_json(self) -> dict[str, Any]:
        return {
            "public_key": self.public_key,
            "endpoint": self.endpoint,
            "latest_handshake": self.latest_handshake,
            "rx_bytes": self.rx_bytes,
            "tx_bytes": self.tx_bytes,
        }


def parse_dump(text: str) -> list[PeerStatus]:
    """``wg show <if> dump``: the interface line, then one tab-separated line per peer:
    public-key, preshared-key, endpoint, allowed-ips, latest-handshake, rx, tx, keepalive."""
    peers: list[PeerStatus] = []
    for line in text.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) != 8:
            continue
        key, _psk, endpoint, _allowed, handshake, rx, tx, _keepalive = fields
        peers.append(
            PeerStatus(
                public_key=key,
                endpoint=None if endpoint == "(none)" else endpoint,
                latest_handshake=int(handshake) or None,
                rx_bytes=int(rx),
                tx_bytes=int(tx),
            )
        )
    return peers


Runner = Callable[[list[str]], str]


def run_command(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    if result.returncode != 0:
        raise AgentError(f"{argv[0]} {argv[1]} failed: {result.stderr.strip()[:300]}")
    return result.stdout


class Agent:
    def __init__(
        self,
        *,
        api: str,
        credential: str,
        interface: str,
        state_dir: Path,
        interval: float = 30,
        ca_file: str | None = None,
        insecure_loopback: bool = False,
        timeout: float = 10,
        wg: str = "wg",
        runner: Runner = run_command,
    ) -> None:
        self.api = check_api_url(api, insecure_loopback=insecure_loopback)
        self._credential = credential
        self.interface = interface
        self.state_dir = state_dir
        self.interval = interval
        self.timeout = timeout
        self.wg = wg
        self.runner = runner
        context = ssl.create_default_context(cafile=ca_file)  # verifies TLS and host name
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect
        )
        self.applied: peerlist.PeerList | None = None
        # Set by report() when the interface's peers are not the applied ones (the
        # interface was reconfigured behind the agent's back): the next sync re-applies.
        self.drifted = False

    def __repr__(self) -> str:  # never shows the credential
        return f"Agent(api={self.api!r}, interface={self.interface!r})"

    # --- HTTP ---------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.api + path, data=body, method=method)  # noqa: S310
        request.add_header("Authorization", f"Agent {self._credential}")
        request.add_header("User-Agent", USER_AGENT)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                expected = response.headers.get("Content-Length")
                data = response.read(peerlist.MAX_BODY_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise AgentError(f"{method} {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            # IncompleteRead (an HTTPException) is a body cut off mid-way.
            raise AgentError(f"{method} {path}: {type(exc).__name__}: {exc}"[:300]) from None
        if status != 200:
            raise AgentError(f"{method} {path}: HTTP {status}")
        if expected is not None and expected.isdigit() and int(expected) != len(data):
            raise AgentError(f"{method} {path}: body shorter than Content-Length")
        return data

    # --- the list -----------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    def load_last_good(self) -> peerlist.PeerList | None:
        try:
            body = self.state_file.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return peerlist.parse(body, self._credential)
        except peerlist.InvalidPeerList as exc:
            logger.error("ignoring the saved peer list %s: %s", self.state_file, exc)
            return None

    def _save_last_good(self, peers: peerlist.PeerList) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(peers.raw, sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".peers-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.state_file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def apply(self, peers: peerlist.PeerList) -> None:
        """One ``wg syncconf`` call with the whole set: all changes or none. The
        interface's own key and port are read back first (``wg showconf``) and written
        into the same file, because syncconf replaces the whole configuration."""
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        interface = interface_section(self.runner([self.wg, "showconf", self.interface]))
        text = render_server_peers(peers.peers, interface)
        # mkstemp makes the file 0600: it holds the interface's private key briefly.
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".syncconf-", suffix=".conf")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text)
            self.runner([self.wg, "syncconf", self.interface, tmp])
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self.applied = peers

    def restore(self) -> bool:
        """Applies the last good list from the state directory (at start-up)."""
        saved = self.load_last_good()
        if saved is None:
            return False
        self.apply(saved)
        logger.info("restored %d peers (list version %d) from %s",
                    len(saved.peers), saved.version, self.state_file)  # fmt: skip
        return True

    def sync(self) -> peerlist.PeerList:
        """Fetch, validate, apply, save. Raises AgentError/InvalidPeerList and then
        leaves the interface and the saved list as they were."""
        body = self._request("GET", PEERS_PATH)
        peers = peerlist.parse(body, self._credential)
        if self.applied is not None and peers.version < self.applied.version:
            raise peerlist.InvalidPeerList(
                f"list version {peers.version} is older than the applied {self.applied.version}"
            )
        previous = self.applied
        changed = previous is None or previous.peers_sha256 != peers.peers_sha256
        if changed or self.drifted:
            self.apply(peers)
            self.drifted = False
            logger.info("applied %d peers (list version %d)", len(peers.peers), peers.version)
        else:
            # The same peers (a list generated again, or a version bump that changed no
            # peer): nothing to apply; the newer version still guards against replays.
            self.applied = peers
        if changed or previous is None or previous.version != peers.version:
            self._save_last_good(peers)
        return peers

    def report(self) -> int:
        dump = self.runner([self.wg, "show", self.interface, "dump"])
        statuses = parse_dump(dump)
        if self.applied is not None:
            present = {status.public_key for status in statuses}
            wanted = {peer.public_key for peer in self.applied.peers}
            if present != wanted and not self.drifted:
                self.drifted = True
                logger.warning(
                    "the interface has %d peers, not the %d applied: re-applying at the next sync",
                    len(present), len(wanted),
                )  # fmt: skip
        body = {
            "interface": self.interface,
            "list_version": self.applied.version if self.applied else None,
            "peers": [s.as_json() for s in statuses],
        }
        self._request("POST", STATUS_PATH, json.dumps(body).encode())
        return len(statuses)

    def run_once(self) -> bool:
        """One round; True when the list was fetched and applied."""
        ok = True
        try:
            self.sync()
        except (AgentError, peerlist.InvalidPeerList) as exc:
            ok = False
            logger.warning("sync failed, keeping the current peers: %s", exc)
        try:
            self.report()
        except (AgentError, ValueError) as exc:
            # ValueError: `wg show dump` output this agent cannot read (another wg
            # version); the peers stay applied and the next round tries again.
            logger.warning("status report failed: %s", exc)
        return ok

    def run(self, stop: threading.Event) -> None:
        try:
            self.restore()
        except AgentError as exc:
            logger.error("could not restore the saved peers: %s", exc)
        while not stop.is_set():
            started = time.monotonic()
            self.run_once()
            stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
