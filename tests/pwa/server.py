"""A real GovDesk server for the PWA's browser tests and screenshots.

Docs: docs/pwa.md#browser-tests.

Like `make demo`, but small: a temporary GOVDESK_VAR_DIR with its own SQLite database
(and the database cache), ``migrate`` + ``seed_demo``, then gunicorn on a free port
serving the API and the built PWA (GOVDESK_PWA_DIST). The browser talks to
http://localhost:<port> — not 127.0.0.1 — because WebAuthn needs a secure context
with a domain as the RP ID (docs/pwa.md#passkeys). Demo tasks are made over HTTP with
pwa/scripts/seed_demo_task.py.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.helpers import (
    PYTHON,
    REPO,
    clean_env,
    free_port,
    stop_process,
    tail,
    wait_for_health,
)

DIST = REPO / "pwa" / "dist"
WEB_THREADS = 8  # per gunicorn worker; two workers
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "service_workers": "allow",
}


def build_pwa_if_missing() -> None:
    """`make test` builds the PWA first; a direct pytest run builds it here if missing."""
    if (DIST / "index.html").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("pwa/dist is missing and npm is not installed: run `make pwa`")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO / "pwa", check=True)
    subprocess.run([npm, "run", "build"], cwd=REPO / "pwa", check=True)


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    var_dir: Path
    log: Path
    env: dict

    def render(self, document_id: int) -> None:
        """Render a document now (what the Celery worker does after 送审), so it has
        page images: ``manage.py shell`` against the server's own database."""
        code = (
            "from api.documents.rendering.actions import store_rendering; "
            f"store_rendering({int(document_id)})"
        )
        out = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", code], cwd=REPO, env=self.env,
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        if out.returncode != 0:
            raise AssertionError(f"rendering failed: {out.stdout}{out.stderr}")

    def seed_tasks(self, count: int) -> list[int]:
        """Documents whose countersign step gives leader1–3 a task each; their ids."""
        seeder = str(REPO / "pwa/scripts/seed_demo_task.py")
        out = subprocess.run(
            [PYTHON, seeder, "--url", self.base, "--count", str(count)],
            capture_output=True, text=True, check=False, timeout=180,
        )  # fmt: skip
        if out.returncode != 0:
            raise AssertionError(f"seeding demo tasks failed: {out.stdout}{out.stderr}")
        return [int(line.split()[1].rstrip(":")) for line in out.stdout.splitlines()]

    def stop(self) -> None:
        stop_process(self.proc)


def start_server(
    var_dir: Path, extra_env: dict[str, str] | None = None, port: int | None = None
) -> Server:
    """``extra_env``: more settings (the meetings test points it at its Janus);
    ``port``: when something started first must know the server's address."""
    build_pwa_if_missing()
    port = port or free_port()
    base = f"http://localhost:{port}"
    env = clean_env(
        GOVDESK_MODE="development",
        DJANGO_SETTINGS_MODULE="api.settings",
        GOVDESK_VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'govdesk.sqlite3'}",
        GOVDESK_PWA_DIST=str(DIST),
        GOVDESK_WEBAUTHN_RP_ID="localhost",
        GOVDESK_WEBAUTHN_ORIGINS=base,
        # Every test and the seeding sign in over HTTP from one address: above 30/min.
        GOVDESK_LOGIN_RATE="600/min",
        # The same thread count for gunicorn and the settings, as the demo launcher and
        # compose do: live streams may then take all but 4 threads, never every one (a
        # closed page's stream holds its thread until the next heartbeat).
        GOVDESK_WEB_THREADS=str(WEB_THREADS),
        PYTHONPATH=str(REPO),
        **(extra_env or {}),
    )
    var_dir.mkdir(parents=True, exist_ok=True)
    log = var_dir / "server.log"
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        with log.open("ab") as out:
            subprocess.run(
                [PYTHON, "manage.py", *step], cwd=REPO, env=env, stdout=out,
                stderr=subprocess.STDOUT, check=True, timeout=300,
            )  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                PYTHON, "-m", "gunicorn", "api.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--worker-class", "gthread", "--threads", str(WEB_THREADS),
                "--timeout", "120",
            ],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        wait_for_health(
            f"http://127.0.0.1:{port}/api/v1/health/", 180, alive=lambda: proc.poll() is None
        )
    except AssertionError as error:
        stop_process(proc)
        raise AssertionError(f"{error}\n{tail(log)}") from None
    return Server(base=base, proc=proc, var_dir=var_dir, log=log, env=env)
