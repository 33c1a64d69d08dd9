#!/usr/bin/env python3
"""GovDesk demo launcher, run by ``make demo``.

Docs: README.md ("Run the demo") and docs/operations.md#the-demo-launcher.

It prepares an embedded deployment under ``var/`` (``GOVDESK_VAR_DIR``): SQLite
database, kombu ``filesystem://`` broker folders, collected static files. Then it runs
``manage.py migrate``, ``manage.py seed_demo --backfill`` (idempotent) and ``manage.py
collectstatic`` and starts five supervised processes, each in its own process group:

* ``fakes``  the loopback provider fakes (``python -m notifications.fakes serve``:
             FCM, Aliyun/Tencent SMS, DingTalk robot, Web Push receiver) on
             127.0.0.1:${GOVDESK_FAKES_PORT:-a free port}; web, worker and beat are
             pointed at them (docs/notifications.md#demo-fakes),
* ``cityfakes`` the city's other systems, faked (``python -m cityfakes serve``: one
             loopback port, ${GOVDESK_CITYFAKES_PORT:-a free port}, each fake under
             ``/<connector>/``); web, worker and beat get
             ``GOVDESK_INTEGRATION_<NAME>_URL`` and ``_SECRET_FILE`` (secrets generated
             once under ``var/cityfakes/``, docs/integrations.md#the-demo),
* ``web``    gunicorn serving ``api.wsgi`` on 127.0.0.1:${GOVDESK_PORT:-8000}
             (``GOVDESK_BIND_HOST`` binds elsewhere), ``GOVDESK_WEB_THREADS`` threads
             per worker (an open live stream holds one),
* ``worker`` a real Celery worker (``celery -A api worker``) on the filesystem broker,
* ``beat``   Celery beat, its schedule file under ``var/``,
* ``receipts`` the SMS delivery-receipt receiver (``manage.py notify_smpp_receipts``):
             the demo sends SMS over SMPP to the fakes' SMS centre on
             127.0.0.1:${GOVDESK_FAKES_SMPP_PORT:-a free port}, which logs each SMS it
             reassembles (docs/notifications.md#zero-internet-profile).

It waits until ``GET /api/v1/health/`` answers 200, prints the URL, the API docs and
the demo logins, and relays every process's output with a per-process prefix. If any
process dies, the others are stopped and the launcher exits non-zero. Ctrl-C (SIGINT)
or SIGTERM stops all of them: SIGTERM to each process group, SIGKILL to whatever is
left after a grace period (a second Ctrl-C skips the grace period). On Linux each
child also gets a parent-death signal, so even a killed launcher leaves no orphans.

Only the standard library is used here; the children run with the same interpreter
(the project's venv).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8000
DEFAULT_BIND_HOST = "127.0.0.1"
HEALTH_PATH = "/api/v1/health/"
DOCS_PATH = "/api/docs/"

# The demo accounts; the banner lists every account of the demo city
# (api/demo/city.py, the data seed_demo loads), which includes these.
REQUIRED_ACCOUNTS = (
    "clerk", "director", "leader1", "leader2", "leader3", "mayor", "deputy1",
    "b_clerk", "b_leader", "custodian", "admin", "supervisor",
)  # fmt: skip

# Variables that would point the demo at outside services; the demo pins its own
# embedded ones unless --keep-env is given.
EXTERNAL_SERVICE_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")

_COLOURS = {
    "setup": "36", "fakes": "33", "web": "32", "worker": "35", "beat": "34", "demo": "1;33",
    "receipts": "33",
    "janus": "31",
}  # fmt: skip
# The demo's SMS rung: minutes until an unread notification goes to SMS (the fake).
DEMO_SMS_AFTER_MINUTES = "very_urgent=1,high=1,normal=1,low=0"
DEMO_SMS_SIGN_NAME = "新城市政务"
DEMO_SMS_TEMPLATE = "SMS_DEMO0001"
DEMO_VAPID_SUBJECT = "mailto:it@xincheng.gov.example"
DEMO_SMPP_SOURCE_ADDR = "1069000101"  # the city's SMS service number (demo)
DEMO_VPN_PORT = 51820  # the demo gateway's WireGuard port, on loopback


class DemoError(Exception):
    """A start-up failure with a message for the person at the terminal."""


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while the demo was still starting."""


# --------------------------------------------------------------------------- output


class Console:
    """Serialises lines from several threads onto one stream, with a prefix each."""

    def __init__(self, stream: IO[str] | None = None, colour: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        if colour is None:
            colour = self.stream.isatty() and os.environ.get("NO_COLOR") is None
        self.colour = colour
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<6} |"
        if self.colour:
            prefix = f"\033[{_COLOURS.get(name, '0')}m{prefix}\033[0m"
        with self.lock:
            try:
                self.stream.write(f"{prefix} {text}\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    def say(self, text: str) -> None:
        for part in text.splitlines() or [""]:
            self.line("demo", part)


# ---------------------------------------------------------------------- supervision


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()  # loaded here, in the parent: the child only calls into it
_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child if the launcher dies without cleaning up."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    proc: subprocess.Popen
    reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class Supervisor:
    """Starts children in their own process groups and stops them as a set."""

    console: Console
    stop_timeout: float = 15.0
    children: list[Child] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    force: threading.Event = field(default_factory=threading.Event)

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path = BASE_DIR
    ) -> Child:
        # The child's own session keeps the terminal's Ctrl-C away from it: the
        # launcher alone decides the order and the grace period of the shutdown.
        proc = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup,  # safe: no relay thread runs yet (see relay())
        )
        child = Child(name, argv, proc)
        self.children.append(child)
        return child

    def relay(self) -> None:
        """Starts one reader thread per child, copying its output with a prefix.

        Called once every child is started, so that ``preexec_fn`` never runs while
        other threads exist."""
        for child in self.children:
            if child.reader is None:
                child.reader = threading.Thread(
                    target=self._pump, args=(child,), name=f"relay-{child.name}", daemon=True
                )
                child.reader.start()

    def _pump(self, child: Child) -> None:
        assert child.proc.stdout is not None
        for raw in iter(child.proc.stdout.readline, b""):
            self.console.line(child.name, raw.decode("utf-8", "replace").rstrip("\r\n"))
        child.proc.stdout.close()

    def request_stop(self, signum: int, _frame: object = None) -> None:
        if self.stop_requested.is_set():
            self.force.set()  # a second Ctrl-C: no more grace
        self.stop_requested.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        with contextlib.suppress(AttributeError, ValueError):
            signal.signal(signal.SIGHUP, self.request_stop)

    def dead(self) -> Child | None:
        for child in self.children:
            if child.proc.poll() is not None:
                return child
        return None

    def wait(self, poll: float = 0.25) -> Child | None:
        """Blocks until a stop is requested (returns None) or a child exits (returns it)."""
        while not self.stop_requested.is_set():
            gone = self.dead()
            if gone is not None:
                return gone
            self.stop_requested.wait(poll)
        return None

    @staticmethod
    def _signal_group(child: Child, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)

    def stop(self) -> None:
        """SIGTERM each child (newest first), wait, then SIGKILL its whole group.

        The leader gets SIGTERM alone: gunicorn's master and Celery's main process
        shut their own workers down gracefully. Once the leader is gone (or the grace
        period is over), SIGKILL to the process group removes anything left of it."""
        for child in reversed(self.children):
            if child.proc.poll() is None:
                self.console.say(f"stopping {child.name} (pid {child.pid})")
                with contextlib.suppress(ProcessLookupError):
                    child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and not self.force.is_set():
            if all(c.proc.poll() is not None for c in self.children):
                break
            time.sleep(0.1)
        for child in self.children:
            if child.proc.poll() is None:
                self.console.say(f"{child.name} did not stop in time: killing it")
            # Also reaps stragglers of a group whose leader already exited
            # (a gunicorn or Celery pool process that outlived its master).
            self._signal_group(child, signal.SIGKILL)
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=5)
            if child.reader is not None:
                child.reader.join(timeout=2)


# ------------------------------------------------------------------------ set-up


def passkey_origins(port: int, host: str = DEFAULT_BIND_HOST) -> str:
    """The WebAuthn origins of the demo on ``port`` (docs/identity.md#passkeys-webauthn).

    Browsers refuse an IP address as the RP ID, so passkeys work at
    ``http://localhost:<port>`` (a secure context without TLS); a bind host that is a
    name under the RP ID (``GOVDESK_BIND_HOST=govdesk.localhost``) is added too.
    """
    origins = [f"http://localhost:{port}"]
    name = host.strip().lower()
    if name and name != "localhost" and name.endswith(".localhost"):
        origins.append(f"http://{name}:{port}")
    return ",".join(origins)


def demo_environment(
    base: Mapping[str, str], keep_env: bool, port: int | None = None, host: str | None = None
) -> dict[str, str]:
    """The environment every demo process shares. ``port``: the web server's; the
    passkey origins follow it unless ``GOVDESK_WEBAUTHN_ORIGINS`` is set."""
    env = dict(base)
    rp_id = (env.get("GOVDESK_WEBAUTHN_RP_ID") or "localhost").strip().lower()
    if port is not None and not env.get("GOVDESK_WEBAUTHN_ORIGINS") and rp_id == "localhost":
        env["GOVDESK_WEBAUTHN_ORIGINS"] = passkey_origins(port, host or DEFAULT_BIND_HOST)
    env["GOVDESK_MODE"] = "development"
    env["DJANGO_SETTINGS_MODULE"] = "api.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BASE_DIR), env.get("PYTHONPATH")]))
    var_dir = Path(env.get("GOVDESK_VAR_DIR") or BASE_DIR / "var").resolve()
    env["GOVDESK_VAR_DIR"] = str(var_dir)
    if not keep_env:
        for name in EXTERNAL_SERVICE_VARS:
            env.pop(name, None)
        env["DATABASE_URL"] = f"sqlite:///{var_dir / 'govdesk.sqlite3'}"
        env["CELERY_BROKER_URL"] = "filesystem://"
    return env


def parse_port(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        raise DemoError(f"GOVDESK_PORT={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise DemoError(f"GOVDESK_PORT={raw!r} is not a port number (1-65535)")
    return port


def load_settings(env: Mapping[str, str]):
    """Imports api.settings under the demo environment: a bad variable fails here,
    with the variable's name, before anything starts."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        if str(BASE_DIR) not in sys.path:
            sys.path.insert(0, str(BASE_DIR))
        import importlib

        try:
            return importlib.import_module("api.settings")
        except Exception as exc:
            raise DemoError(f"the settings refused the environment: {exc}") from exc
    finally:
        os.environ.clear()
        os.environ.update(saved)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fakes_port(raw: str | None) -> int:
    """GOVDESK_FAKES_PORT, or a free loopback port for this run."""
    if raw is None or raw.strip() == "":
        return free_loopback_port()
    try:
        return parse_port(raw)
    except DemoError:
        raise DemoError(f"GOVDESK_FAKES_PORT={raw!r} is not a port number (1-65535)") from None


def fakes_environment(
    fakes_dir: Path, port: int, base: Mapping[str, str], smpp_port: int | None = None
) -> dict[str, str]:
    """Points every channel of web, worker and beat at the fakes (written by
    ``python -m notifications.fakes init``). The SMS delay keeps a value the caller
    set; everything else is pinned so the demo never talks to a real provider. With
    ``smpp_port`` SMS goes over SMPP to the fake SMS centre (the zero-internet way,
    docs/notifications.md#zero-internet-profile), else to the fake Aliyun gateway."""
    url = f"http://127.0.0.1:{port}/"
    cred = json.loads((fakes_dir / "credentials.json").read_text("utf-8"))
    env = {
        "GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE": str(fakes_dir / "fcm-service-account.json"),
        "GOVDESK_NOTIFY_FCM_PROJECT_ID": "",
        "GOVDESK_NOTIFY_FCM_URL": url + "fcm/v1/projects/{project_id}/messages:send",
        "GOVDESK_NOTIFY_SMS_PROVIDER": "aliyun",
        "GOVDESK_NOTIFY_SMS_KEY_ID": cred["aliyun"]["access_key_id"],
        "GOVDESK_NOTIFY_SMS_KEY_SECRET": cred["aliyun"]["access_key_secret"],
        "GOVDESK_NOTIFY_SMS_SIGN_NAME": DEMO_SMS_SIGN_NAME,
        "GOVDESK_NOTIFY_SMS_TEMPLATE": DEMO_SMS_TEMPLATE,
        "GOVDESK_NOTIFY_SMS_ENDPOINT": url + "aliyun/",
        "GOVDESK_NOTIFY_IM_WEBHOOK_URL": url + "dingtalk/robot/send?access_token=demo",
        "GOVDESK_NOTIFY_IM_FLAVOR": "dingtalk",
        "GOVDESK_NOTIFY_IM_SECRET": cred["dingtalk"]["secret"],
        "GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY": (
            (fakes_dir / "vapid-private-key.txt").read_text("utf-8").strip()
        ),
        "GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT": DEMO_VAPID_SUBJECT,
        "GOVDESK_NOTIFY_SMS_AFTER_MINUTES": (
            base.get("GOVDESK_NOTIFY_SMS_AFTER_MINUTES") or DEMO_SMS_AFTER_MINUTES
        ),
    }
    if smpp_port is not None:
        account = json.loads((fakes_dir / "smpp.json").read_text("utf-8"))
        env.update(
            {
                "GOVDESK_NOTIFY_SMS_PROVIDER": "smpp",
                "GOVDESK_NOTIFY_SMPP_HOST": "127.0.0.1",
                "GOVDESK_NOTIFY_SMPP_PORT": str(smpp_port),
                "GOVDESK_NOTIFY_SMPP_SYSTEM_ID": account["system_id"],
                "GOVDESK_NOTIFY_SMPP_PASSWORD": account["password"],
                "GOVDESK_NOTIFY_SMPP_SOURCE_ADDR": DEMO_SMPP_SOURCE_ADDR,
            }
        )
    return env


# The connectors of docs/integrations.md; each has a fake under /<name>/ of cityfakes.
CITY_CONNECTORS = ("esupervision", "video", "citymgmt", "emergency", "basedata")


def city_fakes_secrets(folder: Path, names: Sequence[str] = CITY_CONNECTORS) -> Path:
    """One shared secret per connector, made once and kept in ``folder/secrets.json``
    (0600; a name added later gets its own) and one ``<name>.secret`` file each, which
    GovDesk reads through ``GOVDESK_INTEGRATION_<NAME>_SECRET_FILE``. Returns the JSON
    file, which ``python -m cityfakes serve --secrets`` reads."""
    import secrets

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.json"
    kept: dict[str, str] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    for name in names:
        kept.setdefault(name, secrets.token_urlsafe(32))
    _write_private(path, json.dumps(kept, indent=2))
    for name in names:
        _write_private(folder / f"{name}.secret", kept[name])
    return path


def city_fakes_environment(
    folder: Path, port: int, names: Sequence[str] = CITY_CONNECTORS
) -> dict[str, str]:
    """Points every connector of web, worker and beat at its fake on ``port``."""
    env: dict[str, str] = {}
    for name in names:
        prefix = f"GOVDESK_INTEGRATION_{name.upper()}_"
        env[prefix + "URL"] = f"http://127.0.0.1:{port}/{name}"
        env[prefix + "SECRET_FILE"] = str(folder / f"{name}.secret")
        env[prefix + "SECRET"] = ""  # the file wins; never a stray value from the shell
    return env


def demo_vpn_gateway(
    var_dir: Path, base: Mapping[str, str], pool: str, gateway: str
) -> dict[str, str]:
    """The demo's WireGuard gateway (docs/vpn.md#the-demo-gateway), so that request →
    approve → config download → QR works without settings: the server's key pair,
    made once and kept in ``var/vpn-demo/wg0.keys`` (0600: line 1 private, line 2
    public), a matching ``var/vpn-demo/wg0.conf`` for ``wg-quick up`` (the gateway's
    address in the pool, port 51820), and the endpoint on loopback. ``pool`` and
    ``gateway`` are the settings' ``GOVDESK_VPN_POOL`` / ``GOVDESK_VPN_GATEWAY_ADDRESS``.
    When the caller set ``GOVDESK_VPN_ENDPOINT`` or ``GOVDESK_VPN_SERVER_PUBLIC_KEY``,
    their gateway is used and nothing is made."""
    if base.get("GOVDESK_VPN_ENDPOINT") or base.get("GOVDESK_VPN_SERVER_PUBLIC_KEY"):
        return {}
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    from vpn_gateway.keys import generate_key_pair, is_valid_key, public_key_of
    from vpn_gateway.pool import AddressPool

    folder = var_dir / "vpn-demo"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = folder / "wg0.keys"
    saved = keys.read_text("ascii").split() if keys.exists() else []
    if len(saved) == 2 and is_valid_key(saved[0]) and public_key_of(saved[0]) == saved[1]:
        private, public = saved
    else:
        private, public = generate_key_pair()
        _write_private(keys, f"{private}\n{public}\n")
    address_pool = AddressPool.parse(pool, gateway or None)
    _write_private(
        folder / "wg0.conf",
        "# The GovDesk demo's VPN gateway (docs/vpn.md#the-demo-gateway). DEMO ONLY.\n"
        "[Interface]\n"
        f"Address = {address_pool.gateway}/{address_pool.network.prefixlen}\n"
        f"ListenPort = {DEMO_VPN_PORT}\n"
        f"PrivateKey = {private}\n",
    )
    return {
        "GOVDESK_VPN_ENDPOINT": f"127.0.0.1:{DEMO_VPN_PORT}",
        "GOVDESK_VPN_SERVER_PUBLIC_KEY": public,
    }


def _write_private(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` readable by the owner only (it holds a key)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(tmp, path)


def janus_setup(var_dir: Path, host: str, port: int) -> tuple[list[str], dict[str, str]] | None:
    """Video meetings (docs/meetings.md#the-demo): when Debian's ``janus`` is installed,
    a configuration under var/janus/ (secrets kept between runs, free ports chosen now)
    and the settings that point web, worker and beat at it; None without the binary."""
    from api.meetings.janus.config import JanusConfig, binary, free_port

    executable = binary()
    if executable is None:
        return None
    folder = var_dir / "janus"
    folder.mkdir(parents=True, exist_ok=True)
    secrets_file = folder / "secrets.json"
    if secrets_file.is_file():
        kept = json.loads(secrets_file.read_text("utf-8"))
    else:
        import secrets

        kept = {name: secrets.token_urlsafe(24) for name in ("admin", "rooms", "events")}
        secrets_file.write_text(json.dumps(kept), "utf-8")
        secrets_file.chmod(0o600)
    # Browsers reach Janus where they reach GovDesk; on a wildcard bind say which
    # address with GOVDESK_JANUS_PUBLIC_HOST (docs/meetings.md#the-demo).
    wildcard = host in ("0.0.0.0", "::")
    public = os.environ.get("GOVDESK_JANUS_PUBLIC_HOST") or ("127.0.0.1" if wildcard else host)
    config = JanusConfig(
        admin_secret=kept["admin"],
        room_admin_key=kept["rooms"],
        event_url=f"http://127.0.0.1:{port}/api/v1/meetings/janus-events/",
        event_password=kept["events"],
        bind_host=host,
        http_port=free_port(),
        ws_port=free_port(),
        admin_port=free_port(),
    )
    conf = folder / "conf"
    config.write(conf)
    env = {
        "GOVDESK_JANUS_API_URL": f"http://127.0.0.1:{config.http_port}/janus",
        "GOVDESK_JANUS_ADMIN_URL": config.admin_url(),
        "GOVDESK_JANUS_ADMIN_SECRET": config.admin_secret,
        "GOVDESK_JANUS_ROOM_ADMIN_KEY": config.room_admin_key,
        "GOVDESK_JANUS_CLIENT_URLS": (
            f"{config.ws_url(url_host(public))},{config.api_url(url_host(public))}"
        ),
        "GOVDESK_JANUS_EVENT_PASSWORD": config.event_password,
    }
    return config.command(conf, executable), env


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DemoError(
                f"cannot listen on {host}:{port} ({exc.strerror}); "
                "set GOVDESK_PORT to a free port or stop what is using it"
            ) from None


def run_step(console: Console, argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Runs one set-up command, relaying its output; a failure stops the demo."""
    console.say("$ " + " ".join(str(a) for a in argv[1:]))
    proc = subprocess.Popen(
        list(argv),
        cwd=str(BASE_DIR),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    for raw in iter(proc.stdout.readline, b""):
        console.line("setup", raw.decode("utf-8", "replace").rstrip("\r\n"))
    if proc.wait() != 0:
        raise DemoError(f"`{' '.join(str(a) for a in argv[1:])}` failed (exit {proc.returncode})")


class BackgroundStep:
    """A set-up command that runs while the others do; its output is shown at the end.

    (Its output goes to a file, not a pipe: no reader thread may exist before the
    supervised children start, and a full pipe would block it.)"""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.argv, self.log = list(argv), log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=str(BASE_DIR),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def finish(self, console: Console) -> None:
        console.say("$ " + " ".join(str(a) for a in self.argv[1:]))
        code = self.proc.wait()
        for line in self.log.read_text("utf-8", "replace").splitlines():
            console.line("setup", line)
        if code != 0:
            raise DemoError(f"`{' '.join(self.argv[1:])}` failed (exit {code})")

    def abandon(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)


def url_host(host: str) -> str:
    """The host to put in URLs and to poll: a wildcard bind is reached on loopback."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def app_url(base_url: str) -> str:
    """The app's address: on loopback, ``localhost`` rather than 127.0.0.1, because a
    browser allows passkeys (WebAuthn) on localhost but never on an IP address."""
    return base_url.replace("://127.0.0.1:", "://localhost:", 1)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def wait_for_health(
    url: str, supervisor: Supervisor, timeout: float, sleep: Callable[[float], None] = time.sleep
) -> dict:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if supervisor.stop_requested.is_set():
            raise StopRequested
        gone = supervisor.dead()
        if gone is not None:
            raise DemoError(
                f"{gone.name} exited unexpectedly during start-up (code {gone.proc.returncode})"
            )
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            if exc.code == 403 and "network_not_allowed" in body:
                raise DemoError(
                    "the health check was refused as outside GOVDESK_ALLOWED_NETWORKS; "
                    "add the bind address's network there (docs/operations.md)"
                ) from None
            last = f"HTTP {exc.code}: {body[:200]}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        sleep(0.5)
    raise DemoError(f"{url} did not answer 200 within {timeout:.0f} s (last: {last})")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    unit: str
    title: str
    totp: bool


def demo_accounts() -> list[DemoAccount]:
    """The demo city's accounts, from the data ``seed_demo`` loads (pure data, no DB)."""
    from api.demo import city as demo_city

    units = {u.code: u.short_name or u.name for u in demo_city.DEMO_UNITS}
    return [
        DemoAccount(
            a.username,
            a.display_name,
            units.get(a.unit, a.unit),
            a.title,
            a.username in demo_city.TOTP_ACCOUNTS,
        )
        for a in demo_city.DEMO_ACCOUNTS
    ]


def _width(text: str) -> int:
    """Display width in a terminal: a CJK character takes two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _python_for_humans() -> str:
    python = Path(sys.executable)
    try:
        return str(python.relative_to(BASE_DIR))
    except ValueError:
        return str(python)


def banner(
    base_url: str,
    password: str,
    password_from_env: bool,
    fakes_url: str = "",
    city_fakes_url: str = "",
) -> str:
    from api.demo.city import DEMO_TOTP_SECRET

    accounts = demo_accounts()
    width = max(len(a.username) for a in accounts)
    name_width = max(_width(a.name) for a in accounts) + 2
    unit_width = max(_width(a.unit) for a in accounts) + 2
    rows = [
        f"  {a.username:<{width}}  {_pad(a.name, name_width)}{_pad(a.unit, unit_width)}"
        f"{a.title}{'  + TOTP code' if a.totp else ''}"
        for a in accounts
    ]
    source = "GOVDESK_DEMO_PASSWORD" if password_from_env else "default; GOVDESK_DEMO_PASSWORD"
    return "\n".join(
        [
            "",
            "GovDesk demo city 新城市 is running.",
            f"  App (PWA)   {app_url(base_url)}/  (leader1 has a task to approve; "
            "passkeys need localhost or HTTPS)",
            f"  API         {base_url}/api/v1/",
            f"  API docs    {base_url}{DOCS_PATH}",
            f"  Health      {base_url}{HEALTH_PATH}",
            f"  Log in      POST {base_url}/api/v1/auth/token/ {{username, password}}",
            *(
                [
                    f"  Fakes       {fakes_url}_received  (push and SMS that arrived; "
                    "check: scripts/demo_notify.py)"
                ]
                if fakes_url
                else []
            ),
            *(
                [f"  City fakes  {city_fakes_url}  (the city's systems; docs/integrations.md)"]
                if city_fakes_url
                else []
            ),
            "",
            f"Demo accounts — password {password} ({source} replaces it):",
            *rows,
            "",
            "TOTP accounts also send `otp`; the current code (demo-only secret, docs/demo.md):",
            f'  {_python_for_humans()} -c "import pyotp; '
            f"print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\"",
            "Accounts keep the password they were created with; "
            "`manage.py seed_demo --reset-passwords` sets the demo password again.",
            "",
            "Press Ctrl-C to stop the web server, the worker, beat and the fakes.",
            "",
        ]
    )


def give_leader1_a_task(
    console: Console, python: str, base_url: str, env: Mapping[str, str]
) -> None:
    """The task the app's first screen shows (docs/pwa.md#the-demo-task): over HTTP,
    the clerk submits a notice and the director reviews it, so leader1–3 each have a
    会签 to approve. Skipped when leader1 already has one; a failure is reported but
    does not stop the demo (the city is usable without it)."""
    try:
        run_step(
            console,
            [python, str(BASE_DIR / "pwa" / "scripts" / "seed_demo_task.py"),
             "--url", base_url, "--if-empty"],
            env,
        )  # fmt: skip
    except DemoError as exc:
        console.say(f"warning: no demo task for leader1 ({exc}); see docs/pwa.md#the-demo-task")


def build_commands(
    python: str,
    settings,
    host: str,
    port: int,
    fakes: tuple[Path, int] | tuple[Path, int, int] | None = None,
    city_fakes: tuple[Path, int] | None = None,
) -> list[tuple[str, list[str]]]:
    """The supervised processes. ``fakes`` = (dir, port[, smpp port]); with an SMPP
    port the fakes also run the fake SMSC and ``receipts`` (manage.py
    notify_smpp_receipts) receives its delivery receipts. ``city_fakes`` = (the
    secrets file, port) runs ``python -m cityfakes serve`` beside them."""
    schedule = str(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    fakes_command: list[tuple[str, list[str]]] = []
    receipts_command: list[tuple[str, list[str]]] = []
    if fakes is not None:
        serve = [python, "-m", "notifications.fakes", "serve", "--dir", str(fakes[0]),
                 "--port", str(fakes[1])]  # fmt: skip
        if len(fakes) > 2:
            serve += ["--smpp-port", str(fakes[2])]  # type: ignore[misc]
            receipts_command = [
                ("receipts", [python, str(BASE_DIR / "manage.py"), "notify_smpp_receipts"])
            ]
        fakes_command = [("fakes", serve)]
    if city_fakes is not None:
        fakes_command.append(
            (
                "cityfakes",
                [python, "-m", "cityfakes", "serve", "--port", str(city_fakes[1]),
                 "--secrets", str(city_fakes[0]),
                 "--govdesk-url", f"http://{url_host(host)}:{port}"],
            )
        )  # fmt: skip
    return [
        *fakes_command,
        (
            "web",
            [
                python, "-m", "gunicorn", "api.wsgi:application",
                "--bind", bind_address(host, port),
                "--workers", "2", "--worker-class", "gthread",
                "--threads", str(settings.GOVDESK_WEB_THREADS),
                "--timeout", "60", "--graceful-timeout", "10",
                "--access-logfile", "-", "--error-logfile", "-", "--no-control-socket",
            ],
        ),
        (
            "worker",
            [
                python, "-m", "celery", "-A", "api", "worker",
                "--loglevel", "INFO", "--concurrency", "2",
                "--hostname", "demo-worker@%h", "--without-gossip", "--without-mingle",
            ],
        ),
        (
            "beat",
            [python, "-m", "celery", "-A", "api", "beat", "--loglevel", "INFO",
             "--schedule", schedule],
        ),
        *receipts_command,
    ]  # fmt: skip


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the GovDesk demo city (make demo).")
    parser.add_argument(
        "--keep-env",
        action="store_true",
        help="use DATABASE_URL, CELERY_BROKER_URL and REDIS_URL from the environment "
        "instead of the embedded SQLite database and filesystem broker",
    )
    parser.add_argument(
        "--health-timeout", type=float, default=90.0, help="seconds to wait for health 200"
    )
    parser.add_argument(
        "--stop-timeout", type=float, default=15.0, help="grace period before SIGKILL"
    )
    args = parser.parse_args(argv)
    console = Console()
    supervisor = Supervisor(console, stop_timeout=args.stop_timeout)
    python = sys.executable
    # Until the supervisor takes over, SIGTERM interrupts set-up like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        port = parse_port(os.environ.get("GOVDESK_PORT"))
        host = (os.environ.get("GOVDESK_BIND_HOST") or DEFAULT_BIND_HOST).strip()
        env = demo_environment(os.environ, keep_env=args.keep_env, port=port, host=host)
        settings = load_settings(env)
        var_dir = Path(settings.VAR_DIR)
        broker_folders = [
            Path(str(value))
            for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items()
            if key.endswith("_folder") or key.startswith("data_folder")
        ]
        for folder in (
            var_dir,
            *broker_folders,
            Path(settings.STATIC_ROOT),
            Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        check_port_free(host, port)
        fakes_at = fakes_port(os.environ.get("GOVDESK_FAKES_PORT"))
        check_port_free("127.0.0.1", fakes_at)
        smpp_at = fakes_port(os.environ.get("GOVDESK_FAKES_SMPP_PORT"))
        while smpp_at == fakes_at:
            smpp_at = free_loopback_port()
        check_port_free("127.0.0.1", smpp_at)
        city_at = fakes_port(os.environ.get("GOVDESK_CITYFAKES_PORT"))
        while city_at in (fakes_at, smpp_at):
            city_at = free_loopback_port()
        check_port_free("127.0.0.1", city_at)
        console.say(f"GovDesk demo: data in {var_dir}, mode development")
        if host not in ("127.0.0.1", "localhost", "::1"):
            console.say(
                f"binding {host}: other machines can connect only from "
                "GOVDESK_ALLOWED_NETWORKS with a Host in ALLOWED_HOSTS (docs/operations.md)"
            )
        # The provider fakes' keys (FCM service account, SMS keys, VAPID pair), kept
        # under var/ between runs and re-pointed at this run's port.
        fakes_dir = var_dir / "fakes"
        run_step(
            console,
            [python, "-m", "notifications.fakes", "init", "--dir", str(fakes_dir),
             "--port", str(fakes_at)],
            env,
        )  # fmt: skip
        env.update(fakes_environment(fakes_dir, fakes_at, env, smpp_at))
        # The city's systems (docs/integrations.md#the-demo): secrets kept under var/.
        city_dir = var_dir / "cityfakes"
        city_secrets = city_fakes_secrets(city_dir)
        env.update(city_fakes_environment(city_dir, city_at))
        vpn = demo_vpn_gateway(
            var_dir, env, settings.GOVDESK_VPN_POOL, settings.GOVDESK_VPN_GATEWAY_ADDRESS
        )
        env.update(vpn)
        if vpn:
            console.say(
                f"VPN: demo gateway {vpn['GOVDESK_VPN_ENDPOINT']}, key in "
                f"{var_dir / 'vpn-demo'} (docs/vpn.md#the-demo-gateway)"
            )
        janus = janus_setup(var_dir, host, port)
        if janus is None:
            console.say(
                "video meetings need Janus (apt-get install janus; docs/meetings.md): "
                "scheduling, notices, sign-in and minutes work without it"
            )
        else:
            env.update(janus[1])
        manage = [python, str(BASE_DIR / "manage.py")]
        # collectstatic needs no database: it runs alongside migrate and seed_demo.
        static = BackgroundStep(
            [*manage, "collectstatic", "--noinput", "--verbosity", "0"],
            env,
            var_dir / "collectstatic.log",
        )
        try:
            run_step(console, [*manage, "migrate", "--noinput"], env)
            # --backfill: the time-limit scenarios, submitted in the past (docs/demo.md)
            run_step(console, [*manage, "seed_demo", "--backfill"], env)
            static.finish(console)
        finally:
            static.abandon()

        supervisor.install_signal_handlers()
        if janus is not None:
            supervisor.start("janus", janus[0], env)
        fakes = (fakes_dir, fakes_at, smpp_at)
        commands = build_commands(
            python, settings, host, port, fakes, city_fakes=(city_secrets, city_at)
        )
        for name, command in commands:
            supervisor.start(name, command, env)
        supervisor.relay()

        base_url = f"http://{url_host(host)}:{port}"
        wait_for_health(base_url + HEALTH_PATH, supervisor, args.health_timeout)
        give_leader1_a_task(console, python, base_url, env)
        console.say(
            banner(
                base_url,
                str(settings.GOVDESK_DEMO_PASSWORD),
                bool(env.get("GOVDESK_DEMO_PASSWORD")),
                f"http://127.0.0.1:{fakes_at}/",
                f"http://127.0.0.1:{city_at}/",
            )
        )
        gone = supervisor.wait()
        if gone is not None:
            raise DemoError(f"{gone.name} exited unexpectedly (code {gone.proc.returncode})")
        console.say("stopping (Ctrl-C again to kill at once)")
        supervisor.stop()
        console.say("stopped: " + ", ".join(c.name for c in supervisor.children))
        return 0
    except DemoError as exc:
        console.say(f"error: {exc}")
        supervisor.stop()
        if supervisor.children:
            console.say("stopped: " + ", ".join(c.name for c in supervisor.children))
        return 1
    except (KeyboardInterrupt, StopRequested):
        console.say("interrupted during start-up")
        supervisor.stop()
        return 130


if __name__ == "__main__":
    sys.exit(main())
