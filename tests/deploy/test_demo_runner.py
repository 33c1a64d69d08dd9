"""`make demo`'s launcher (scripts/demo.py) end to end. Docs: docs/operations.md#the-demo-launcher.

Starts the real launcher on a free port with a temporary GOVDESK_VAR_DIR (SQLite and
the filesystem broker there): migrate, seed_demo, collectstatic, gunicorn, a Celery
worker and beat. Checks health, demo logins, that the worker executes tasks sent
through the broker, and that SIGINT (Ctrl-C) or a dying child leaves no process behind.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pyotp
import pytest

from api.demo import city as demo_city
from tests.deploy.helpers import (
    PYTHON,
    REPO,
    GiveUp,
    alive,
    clean_env,
    command_line,
    descendants,
    free_port,
    http,
    kill_tree,
    tail,
    wait_for_health,
    wait_until,
)

DEMO = REPO / "scripts" / "demo.py"
TEST_PASSWORD = "Demo-Launcher#2026"  # GOVDESK_DEMO_PASSWORD replaces the default
# Bounds on waiting for events, not measurements: generous, because the machine may be
# busy (migrate + seed_demo on a fresh SQLite file; the stop is 15 s of grace, then
# SIGKILL and up to 5 s per child).
START_TIMEOUT = 240
STOP_TIMEOUT = 90


def _load_demo_module():
    spec = importlib.util.spec_from_file_location("govdesk_demo_launcher", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


demo = _load_demo_module()


class Launcher:
    """scripts/demo.py as a subprocess, its output in a log file."""

    def __init__(self, var_dir: Path, port: int, log: Path) -> None:
        self.var_dir, self.port, self.log = var_dir, port, log
        self.env = clean_env(
            GOVDESK_VAR_DIR=str(var_dir),
            GOVDESK_PORT=str(port),
            GOVDESK_DEMO_PASSWORD=TEST_PASSWORD,
            NO_COLOR="1",
        )
        self.proc: subprocess.Popen | None = None
        self.seen: set[int] = set()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [PYTHON, str(DEMO)],
                cwd=str(REPO),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict:
        """Health 200 from gunicorn: the launcher may still be starting (see wait_for_banner)."""
        try:
            return wait_for_health(f"{self.base}/api/v1/health/", timeout, alive=self.running)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- launcher log ---\n{tail(self.log)}") from None

    def wait_for_banner(self, timeout: float = START_TIMEOUT) -> str:
        """The banner: the launcher has seen health 200, seeded the demo task and now
        supervises its children. Returns the log so far."""

        def banner() -> str | None:
            if not self.running():
                raise GiveUp(f"the launcher exited (code {self.proc.returncode}) first")
            text = self.log.read_text()
            return text if "is running." in text else None

        try:
            return str(wait_until(banner, timeout, "the launcher's banner"))
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- launcher log ---\n{tail(self.log)}") from None

    def remember_processes(self) -> set[int]:
        assert self.proc is not None
        self.seen |= descendants(self.proc.pid)
        return self.seen

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.remember_processes()
            self.proc.kill()
            self.proc.wait(timeout=10)
        kill_tree(alive(self.seen))


def _login(base: str, username: str, password: str, otp: str | None = None) -> dict:
    payload = {"username": username, "password": password}
    if otp is not None:
        payload["otp"] = otp
    status, body = http("POST", f"{base}/api/v1/auth/token/", payload)
    assert status == 200, (username, status, body)
    assert isinstance(body, dict) and body.get("access") and body.get("refresh"), body
    return body


def _enrol_a_phone(launcher: Launcher, tmp_path: Path) -> None:
    """request → approve → config download → QR over HTTP, with only what the
    launcher configured (docs/vpn.md#the-demo-gateway)."""
    assert "VPN: demo gateway 127.0.0.1:51820" in launcher.log.read_text()
    assert (launcher.var_dir / "vpn-demo" / "wg0.keys").exists()
    staff = _login(launcher.base, "office_staff", TEST_PASSWORD)["access"]
    admin = _login(launcher.base, "office_admin", TEST_PASSWORD)["access"]
    status, device = http(
        "POST", f"{launcher.base}/api/v1/vpn/devices/", {"name": "赵丽的手机"},
        headers={"Authorization": f"Bearer {staff}"},
    )  # fmt: skip
    assert status == 201 and isinstance(device, dict), device
    status, body = http(
        "POST", f"{launcher.base}/api/v1/vpn/devices/{device['id']}/approve/", {},
        headers={"Authorization": f"Bearer {admin}"},
    )  # fmt: skip
    assert status == 200, body
    status, fetched = http(
        "POST", f"{launcher.base}/api/v1/vpn/devices/{device['id']}/config/", {},
        headers={"Authorization": f"Bearer {staff}"},
    )  # fmt: skip
    assert status == 200 and isinstance(fetched, dict), fetched
    assert fetched["qr_png"].startswith("data:image/png;base64,")
    assert "Endpoint = 127.0.0.1:51820" in fetched["config"]
    if shutil.which("wg-quick"):
        conf = tmp_path / "wgphone.conf"
        conf.write_text(fetched["config"])
        stripped = subprocess.run(
            ["wg-quick", "strip", str(conf)], capture_output=True, text=True, timeout=30,
            check=False,
        )  # fmt: skip
        assert stripped.returncode == 0, stripped.stderr


def _send_heartbeat(var_dir: Path) -> str:
    """Publishes ``api.common.tasks.heartbeat`` on the demo's filesystem broker, as any
    GovDesk process would (only the message crosses: the worker must run it)."""
    from celery import Celery

    broker = var_dir / "broker"
    sender = Celery(
        "govdesk-test-sender",
        broker="filesystem://",
        broker_transport_options={
            "data_folder_in": str(broker / "queue"),
            "data_folder_out": str(broker / "queue"),
            "processed_folder": str(broker / "processed"),
            "control_folder": str(broker / "control"),
        },
        task_serializer="json",
    )
    # An explicit URL: Celery would prefer CELERY_BROKER_URL from this process's
    # environment (tests/settings.py sets memory://) to the app's own broker.
    try:
        with sender.connection_for_write("filesystem://") as connection:
            result = sender.send_task("api.common.tasks.heartbeat", connection=connection)
    finally:
        sender.close()
    return result.id


def _worker_seen(base: str) -> datetime | None:
    status, body = http("GET", f"{base}/api/v1/health/")
    assert status == 200, body
    assert isinstance(body, dict)
    worker = body["worker"]
    if not worker["ok"] or not worker["last_seen"]:
        return None
    return datetime.fromisoformat(worker["last_seen"])


@pytest.mark.slow
def test_demo_launcher_runs_the_demo_city_and_stops_cleanly(tmp_path):
    """Start, serve, log in, run tasks, Ctrl-C; then start again and lose a child."""
    launcher = Launcher(tmp_path / "var", free_port(), tmp_path / "demo.log")
    launcher.start()
    try:
        health = launcher.wait_ready()
        assert health["status"] == "ok"
        assert health["database"]["ok"] and health["broker"]["ok"]
        # The launcher prints the banner once it has seen health 200 itself.
        log = launcher.wait_for_banner()
        assert f"http://127.0.0.1:{launcher.port}/api/v1/" in log
        assert "/api/docs/" in log and TEST_PASSWORD in log
        for username in demo.REQUIRED_ACCOUNTS:
            assert f"  {username} " in log, username
        assert (launcher.var_dir / "govdesk.sqlite3").exists()
        assert (launcher.var_dir / "broker" / "queue").is_dir()

        # Every account the issue lists logs in with the password GOVDESK_DEMO_PASSWORD
        # set; the seal custodian and the IT admin add their TOTP code (docs/demo.md).
        for username in demo.REQUIRED_ACCOUNTS:
            otp = None
            if username in demo_city.TOTP_ACCOUNTS:
                otp = pyotp.TOTP(demo_city.DEMO_TOTP_SECRET).now()
            tokens = _login(launcher.base, username, TEST_PASSWORD, otp)
            status, me = http(
                "GET",
                f"{launcher.base}/api/v1/me/",
                headers={"Authorization": f"Bearer {tokens['access']}"},
            )
            assert status == 200, me
        # The launcher gave leader1 a task to approve in the app (docs/pwa.md#the-demo-task),
        # and the banner points at the app on localhost, where passkeys work.
        assert f"App (PWA)   http://localhost:{launcher.port}/" in log
        tokens = _login(launcher.base, "leader1", TEST_PASSWORD, None)
        status, todo = http(
            "GET",
            f"{launcher.base}/api/v1/tasks/?state=todo",
            headers={"Authorization": f"Bearer {tokens['access']}"},
        )
        assert status == 200 and todo["results"], todo
        assert todo["results"][0]["step"]["kind"] == "countersign", todo["results"][0]
        # The demo gateway (docs/vpn.md#the-demo-gateway): a phone is requested,
        # approved and its config downloaded, which wg-quick accepts.
        _enrol_a_phone(launcher, tmp_path)
        # The docs UI is served (no CDN) and its assets come from collectstatic.
        status, _ = http("GET", f"{launcher.base}/api/docs/")
        assert status == 200

        # Beat's start-up heartbeat went through the broker to the real worker ...
        first = wait_until(lambda: _worker_seen(launcher.base), 120, "beat's first heartbeat")
        # ... and so does a task this test sends now, through the same broker folders.
        task_id = _send_heartbeat(launcher.var_dir)
        wait_until(
            lambda: (seen := _worker_seen(launcher.base)) is not None and seen > first,
            120,
            "the worker to run the task sent through the broker",
        )
        wait_until(
            lambda: f"heartbeat[{task_id}] succeeded" in launcher.log.read_text(),
            60,
            "the worker's log line for that very task",
        )

        # The web server, the worker and beat, each with its own children.
        pids = launcher.remember_processes()
        commands = " | ".join(command_line(pid) for pid in pids)
        assert "gunicorn" in commands and "worker" in commands and "beat" in commands, commands
        assert "notify_smpp_receipts" in commands, commands  # the SMS receipt receiver
        assert len(pids) >= 5, commands  # 3 leaders + gunicorn workers + Celery pool

        # Ctrl-C: everything stops, nothing is left behind.
        assert launcher.proc is not None
        os.kill(launcher.proc.pid, signal.SIGINT)
        assert launcher.proc.wait(timeout=STOP_TIMEOUT) == 0, tail(launcher.log)
        _assert_all_gone(pids)
        # Janus joins them when Debian's janus is installed (docs/meetings.md#deployment).
        from api.meetings.janus.config import binary

        started = (
            "janus, fakes, cityfakes, web, worker, beat, receipts"
            if binary()
            else "fakes, cityfakes, web, worker, beat, receipts"
        )
        assert f"stopped: {started}" in launcher.log.read_text()
        if binary():
            assert "janus" in commands, commands

        # A second `make demo` on the same data starts again (migrate and seed_demo
        # are idempotent) ...
        launcher.log = tmp_path / "demo-again.log"
        launcher.seen = set()
        launcher.start()
        launcher.wait_ready()
        _login(launcher.base, "clerk", TEST_PASSWORD)
        # ... and when one of its processes dies, it stops the others and fails. Health
        # 200 is not the launcher's "started": it polls health itself and seeds the demo
        # task before it supervises; its banner is the event that says it now does (a
        # child lost before that is reported "during start-up" instead).
        launcher.wait_for_banner()
        pids = launcher.remember_processes()
        beat = next(
            pid
            for pid in pids
            if " beat" in command_line(pid) and _parent(pid) == launcher.proc.pid
        )
        os.kill(beat, signal.SIGKILL)
        assert launcher.proc.wait(timeout=STOP_TIMEOUT) == 1, tail(launcher.log)
        # The launcher wrote (and flushed) its last lines before it exited: no waiting.
        log = launcher.log.read_text()
        assert "error: beat exited unexpectedly (code -9)" in log, tail(launcher.log)
        assert f"stopped: {started}" in log.split("exited unexpectedly")[-1]
        _assert_all_gone(pids)
    finally:
        launcher.cleanup()


def _assert_all_gone(pids: set[int]) -> None:
    """No process the launcher started is left (SIGKILLed ones may take a moment)."""
    try:
        wait_until(lambda: not alive(pids), 30, "every process of the demo to be gone")
    except AssertionError:
        raise AssertionError({pid: command_line(pid) for pid in alive(pids)}) from None


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def test_port_in_use_is_refused_before_anything_starts(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = clean_env(GOVDESK_VAR_DIR=str(tmp_path / "var"), GOVDESK_PORT=str(port))
        result = subprocess.run(
            [PYTHON, str(DEMO)], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stdout
    assert "GOVDESK_PORT" in result.stdout
    assert not (tmp_path / "var" / "govdesk.sqlite3").exists()  # nothing was migrated


def test_bad_setting_is_named_before_anything_starts(tmp_path):
    env = clean_env(GOVDESK_VAR_DIR=str(tmp_path / "var"), GOVDESK_LOGIN_MAX_FAILURES="many")
    result = subprocess.run(
        [PYTHON, str(DEMO)], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "GOVDESK_LOGIN_MAX_FAILURES" in result.stdout


@pytest.mark.parametrize("raw", ["http", "0", "70000"])
def test_bad_port_is_refused(raw):
    with pytest.raises(demo.DemoError, match="GOVDESK_PORT"):
        demo.parse_port(raw)


def test_port_default_and_bind_addresses():
    assert demo.parse_port(None) == 8000 == demo.parse_port(" ")
    assert demo.parse_port("8123") == 8123
    assert demo.bind_address("127.0.0.1", 8000) == "127.0.0.1:8000"
    assert demo.bind_address("::1", 8000) == "[::1]:8000"
    assert demo.url_host("0.0.0.0") == "127.0.0.1"
    assert demo.url_host("::") == "[::1]"


def test_demo_environment_pins_the_embedded_services(tmp_path):
    env = demo.demo_environment(
        {
            "GOVDESK_MODE": "production",
            "DATABASE_URL": "postgres://elsewhere/db",
            "CELERY_BROKER_URL": "redis://elsewhere/0",
            "REDIS_URL": "redis://elsewhere/1",
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "GOVDESK_VAR_DIR": str(tmp_path),
        },
        keep_env=False,
    )
    assert env["GOVDESK_MODE"] == "development"
    assert env["DJANGO_SETTINGS_MODULE"] == "api.settings"
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'govdesk.sqlite3'}"
    assert env["CELERY_BROKER_URL"] == "filesystem://"
    assert "REDIS_URL" not in env
    kept = demo.demo_environment({"DATABASE_URL": "postgres://elsewhere/db"}, keep_env=True)
    assert kept["DATABASE_URL"] == "postgres://elsewhere/db"


def test_fakes_environment_points_every_channel_at_the_fakes(tmp_path):
    """The `fakes` process's keys (python -m notifications.fakes init) become the
    settings of web, worker and beat; the settings accept them (VAPID key parses)."""
    from notifications.fakes.gateways import init_directory, load_directory

    init_directory(tmp_path / "fakes", "http://127.0.0.1:8125/")
    env = demo.fakes_environment(tmp_path / "fakes", 8125, {})
    creds = load_directory(tmp_path / "fakes")
    assert env["GOVDESK_NOTIFY_FCM_URL"].startswith("http://127.0.0.1:8125/fcm/v1/projects/")
    assert creds.service_account["token_uri"] == "http://127.0.0.1:8125/fcm/token"
    assert env["GOVDESK_NOTIFY_SMS_ENDPOINT"] == "http://127.0.0.1:8125/aliyun/"
    assert env["GOVDESK_NOTIFY_SMS_KEY_SECRET"] == creds.aliyun_access_key_secret
    assert env["GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY"] == creds.vapid_private_key
    assert env["GOVDESK_NOTIFY_SMS_AFTER_MINUTES"] == demo.DEMO_SMS_AFTER_MINUTES
    mine = demo.fakes_environment(
        tmp_path / "fakes",
        8125,
        {"GOVDESK_NOTIFY_SMS_AFTER_MINUTES": "very_urgent=2,high=3,normal=4,low=0"},
    )
    assert mine["GOVDESK_NOTIFY_SMS_AFTER_MINUTES"].startswith("very_urgent=2")
    full = demo.demo_environment({"GOVDESK_VAR_DIR": str(tmp_path)}, keep_env=False) | env
    script = (
        "import api.settings as s; "
        "print(s.GOVDESK_NOTIFY_SMS_PROVIDER, s.GOVDESK_NOTIFY_SMS_AFTER_MINUTES['high'])"
    )
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=str(REPO), env=full, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["aliyun", "1"]
    commands = dict(demo.build_commands(PYTHON, _settings_stub(), "127.0.0.1", 8000,
                                        (tmp_path, 8125)))  # fmt: skip
    assert next(iter(commands)) == "fakes"  # started first, so the others find it up
    assert commands["fakes"][-5:] == ["serve", "--dir", str(tmp_path), "--port", "8125"]
    assert commands["web"][commands["web"].index("--threads") + 1] == "16"


def test_the_demo_sends_sms_over_smpp_to_the_fake_smsc_and_receives_receipts(tmp_path):
    """With an SMPP port the demo's SMS go to the fakes' SMS centre and a fifth process
    receives the delivery receipts (docs/notifications.md#zero-internet-profile)."""
    from notifications.fakes.__main__ import smpp_account
    from notifications.fakes.gateways import init_directory

    init_directory(tmp_path / "fakes", "http://127.0.0.1:8125/")
    account = smpp_account(tmp_path / "fakes")
    env = demo.fakes_environment(tmp_path / "fakes", 8125, {}, 8126)
    assert env["GOVDESK_NOTIFY_SMS_PROVIDER"] == "smpp"
    assert env["GOVDESK_NOTIFY_SMPP_PORT"] == "8126"
    assert env["GOVDESK_NOTIFY_SMPP_PASSWORD"] == account["password"]
    assert len(account["password"]) == 8  # SMPP 3.4's limit
    full = demo.demo_environment({"GOVDESK_VAR_DIR": str(tmp_path)}, keep_env=False) | env
    script = (
        "import api.settings as s; print(s.GOVDESK_NOTIFY_SMS_PROVIDER, s.GOVDESK_NOTIFY_SMPP_PORT)"
    )
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=str(REPO), env=full, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["smpp", "8126"]
    commands = dict(demo.build_commands(PYTHON, _settings_stub(), "127.0.0.1", 8000,
                                        (tmp_path, 8125, 8126)))  # fmt: skip
    assert commands["fakes"][-2:] == ["--smpp-port", "8126"]
    assert commands["receipts"][-1] == "notify_smpp_receipts"


def _settings_stub():
    class Stub:
        CELERY_BEAT_SCHEDULE_FILENAME = "/tmp/x"
        GOVDESK_WEB_THREADS = 16

    return Stub()


SLEEPER = "import os, sys, time; os.fork() == 0 and time.sleep(120); time.sleep(120)"


def test_supervisor_stops_the_survivors_and_their_children_when_one_dies():
    console = demo.Console(stream=open(os.devnull, "w"), colour=False)  # noqa: SIM115
    supervisor = demo.Supervisor(console, stop_timeout=5)
    try:
        sleeper = supervisor.start("sleeper", [PYTHON, "-c", SLEEPER], os.environ)
        crasher = supervisor.start(
            "crasher", [PYTHON, "-c", "import time, sys; time.sleep(0.5); sys.exit(3)"], os.environ
        )
        supervisor.relay()
        wait_until(lambda: descendants(sleeper.pid), 60, "the sleeper's own child")
        family = {sleeper.pid, *descendants(sleeper.pid)}
        gone = supervisor.wait(poll=0.05)
        assert gone is crasher and crasher.proc.returncode == 3
        supervisor.stop()
        assert sleeper.proc.returncode is not None
        # The grandchild in the sleeper's group goes too (SIGKILL: gone within moments).
        wait_until(lambda: not alive(family), 30, "the sleeper's family to be gone")
    finally:
        supervisor.force.set()
        supervisor.stop()


def test_a_child_lost_before_the_banner_is_reported_as_during_start_up():
    """Until its banner the launcher polls health (and seeds the demo task); a child
    that dies then is named, with "during start-up" — the wording the launcher test
    must not expect after health 200 alone (it waits for the banner)."""
    console = demo.Console(stream=open(os.devnull, "w"), colour=False)  # noqa: SIM115
    supervisor = demo.Supervisor(console, stop_timeout=5)
    try:
        gone = supervisor.start("beat", [PYTHON, "-c", "raise SystemExit(3)"], os.environ)
        gone.proc.wait(timeout=60)
        with pytest.raises(
            demo.DemoError, match=r"^beat exited unexpectedly during start-up \(code 3\)$"
        ):
            demo.wait_for_health(f"http://127.0.0.1:{free_port()}/", supervisor, timeout=60)
    finally:
        supervisor.stop()


def test_children_do_not_outlive_a_killed_launcher(tmp_path):
    """Even SIGKILL on the launcher (no cleanup possible) leaves no orphan behind:
    each child gets SIGTERM from the kernel (parent-death signal)."""
    script = tmp_path / "mini.py"
    script.write_text(
        "import importlib.util, os, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('d', {str(DEMO)!r})\n"
        "d = importlib.util.module_from_spec(spec); sys.modules['d'] = d\n"
        "spec.loader.exec_module(d)\n"
        "s = d.Supervisor(d.Console(colour=False))\n"
        "argv = [sys.executable, '-c', 'import time; time.sleep(120)']\n"
        "c = s.start('sleeper', argv, os.environ)\n"
        "s.relay(); print(c.pid, flush=True); time.sleep(120)\n"
    )
    proc = subprocess.Popen([PYTHON, str(script)], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline().split()[0])
        assert alive([child])
        proc.kill()
        proc.wait(timeout=10)
        wait_until(lambda: not alive([child]), 30, "the orphaned child to exit")
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if child is not None:
            kill_tree(alive([child]))


@pytest.mark.parametrize("port", [8000, 8080, 8112])
def test_passkey_origins_follow_the_demo_port(tmp_path, port):
    """Passkeys work at http://localhost:<GOVDESK_PORT> whatever the port (README's
    8000 and 8080 among them): the settings the demo's processes load accept it."""
    env = demo.demo_environment({"GOVDESK_VAR_DIR": str(tmp_path)}, keep_env=False, port=port)
    script = "import api.settings as s; print(' '.join(s.GOVDESK_WEBAUTHN_ORIGINS))"
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"http://localhost:{port}"]
    # Someone who chose the origins (or another RP ID) keeps them.
    chosen = {"GOVDESK_WEBAUTHN_ORIGINS": "https://oa.example.gov.cn"}
    assert demo.demo_environment(chosen, keep_env=True, port=port)["GOVDESK_WEBAUTHN_ORIGINS"] == (
        "https://oa.example.gov.cn"
    )
    other_rp = {"GOVDESK_WEBAUTHN_RP_ID": "oa.example.gov.cn"}
    assert "GOVDESK_WEBAUTHN_ORIGINS" not in demo.demo_environment(
        other_rp, keep_env=True, port=port
    )
    assert demo.passkey_origins(port, "govdesk.localhost").split(",") == [
        f"http://localhost:{port}",
        f"http://govdesk.localhost:{port}",
    ]
