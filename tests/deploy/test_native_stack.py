"""The compose deployment without Docker: the same commands, run natively.

Docs: docs/operations.md#deployment-with-compose. No Docker engine runs here, so this
test takes the commands of docker/compose.yaml — the entrypoint's ``setup`` (check
--deploy, migrate, collectstatic), gunicorn on ``api.wsgi``, ``celery -A api worker``
and ``celery -A api beat`` — and starts them in production mode against PostgreSQL (a
scratch database created and dropped here) and Redis (spare database numbers), then
checks health, that beat's heartbeat reaches the worker, the containers' health-check
script, and a clean stop. Needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://…
(.ci/run sets both); skips with that reason otherwise.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.conf import settings

from tests.deploy.helpers import (
    PYTHON,
    REPO,
    alive,
    clean_env,
    descendants,
    free_port,
    http,
    kill_tree,
    tail,
    wait_until,
)

BROKER = os.environ.get("CELERY_BROKER_URL", "")
# Redis database numbers this test may empty: apart from CI's 15 (broker) and 14 (cache).
SPARE_BROKER_DB, SPARE_CACHE_DB = 13, 12

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not settings.DATABASE_IS_POSTGRES or not BROKER.startswith(("redis://", "rediss://")),
        reason="needs PostgreSQL and Redis: set DATABASE_URL=postgres://… and "
        "CELERY_BROKER_URL=redis://… (as .ci/run does)",
    ),
]

VENV_BIN = Path(PYTHON).parent
COMPOSE = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())["services"]
IMAGE_VAR_DIR = "/var/lib/govdesk"


def _interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def _with_db(url: str, db: str | int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture
def scratch_database():
    """A fresh PostgreSQL database for the stack, dropped afterwards."""
    import psycopg

    admin_url = _with_db(settings.DATABASE_URL, "postgres")
    name = f"govdesk_native_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(settings.DATABASE_URL, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def spare_redis():
    import redis

    urls = {_with_db(BROKER, SPARE_BROKER_DB), _with_db(BROKER, SPARE_CACHE_DB)}
    for url in urls:
        redis.Redis.from_url(url).flushdb()
    try:
        yield _with_db(BROKER, SPARE_BROKER_DB), _with_db(BROKER, SPARE_CACHE_DB)
    finally:
        for url in urls:
            redis.Redis.from_url(url).flushdb()


def _native(command: list[str], var_dir: Path, port: int) -> list[str]:
    """A compose command as this machine runs it: the venv's executables, the
    image's var dir replaced by a temporary one, loopback instead of 0.0.0.0."""
    out = []
    for arg in command:
        arg = _interpolate(arg).replace(IMAGE_VAR_DIR, str(var_dir))
        arg = arg.replace("--bind=0.0.0.0:8000", f"--bind=127.0.0.1:{port}")
        out.append(arg)
    if (VENV_BIN / out[0]).exists():
        out[0] = str(VENV_BIN / out[0])
    return out


class Stack:
    def __init__(self, tmp_path: Path, env: dict[str, str], var_dir: Path) -> None:
        self.tmp_path, self.env, self.var_dir = tmp_path, env, var_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.seen: set[int] = set()

    def service_env(self, name: str) -> dict[str, str]:
        """The env file's values plus the service's own ``environment:`` block."""
        own = COMPOSE[name].get("environment", {})
        return {
            **self.env,
            **{
                key: _interpolate(str(value)).replace(IMAGE_VAR_DIR, str(self.var_dir))
                for key, value in own.items()
            },
        }

    def start(self, name: str, argv: list[str]) -> None:
        with (self.tmp_path / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                argv,
                cwd=str(REPO),
                env=self.service_env(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def logs(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{tail(self.tmp_path / f'{name}.log', 30)}" for name in self.procs
        )

    def all_running(self) -> bool:
        return all(proc.poll() is None for proc in self.procs.values())

    def remember(self) -> set[int]:
        for proc in self.procs.values():
            self.seen |= {proc.pid, *descendants(proc.pid)}
        return self.seen

    def stop(self) -> dict[str, int]:
        """What `docker compose stop` does: SIGTERM to each main process, then wait."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait(timeout=5)
        return codes

    def cleanup(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                self.remember()
                proc.kill()
                proc.wait(timeout=10)
        kill_tree(alive(self.seen))


def _worker_seen(url: str, headers: dict[str, str]) -> str | None:
    status, body = http("GET", url, headers=headers)
    assert status == 200, body
    assert isinstance(body, dict)
    return body["worker"]["last_seen"] if body["worker"]["ok"] else None


def test_the_compose_processes_run_natively_on_postgres_and_redis(
    tmp_path, scratch_database, spare_redis
):
    broker_url, cache_url = spare_redis
    var_dir = tmp_path / "var"
    port = free_port()
    node = f"native-{uuid.uuid4().hex[:8]}@localhost"
    env = clean_env(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        GOVDESK_APP_DIR=str(REPO),
        GOVDESK_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        GOVDESK_SEAL_KEY_PASSPHRASE=secrets.token_urlsafe(24),
        GOVDESK_VAR_DIR=str(var_dir),
        DATABASE_URL=scratch_database,
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=cache_url,
        ALLOWED_HOSTS="oa.example.gov.cn,127.0.0.1",
        GOVDESK_ALLOWED_NETWORKS="127.0.0.1/32",
        WEB_CONCURRENCY="2",
        GOVDESK_HEALTHCHECK_URL=f"http://127.0.0.1:{port}/api/v1/health/",
        GOVDESK_WORKER_NODENAME=node,
    )
    (var_dir / "static").mkdir(parents=True)
    (var_dir / "beat").mkdir()

    # The `setup` service: check --deploy (warnings fail), migrate, collectstatic,
    # publish_pwa.
    setup = subprocess.run(
        ["sh", str(REPO / "docker" / "entrypoint.sh"), *COMPOSE["setup"]["command"]],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "checks passed, database migrated, static files collected" in setup.stdout
    assert (var_dir / "static" / "staticfiles.json").exists()
    # ... and the PWA into the static volume, where nginx serves it (docs/pwa.md).
    assert "PWA published to" in setup.stdout, setup.stdout
    assert (var_dir / "static" / "app" / "index.html").is_file()

    stack = Stack(tmp_path, env, var_dir)
    try:
        for name in ("web", "worker", "beat"):
            argv = _native([str(a) for a in COMPOSE[name]["command"]], var_dir, port)
            if name == "worker":
                argv.append(f"--hostname={node}")
            stack.start(name, argv)

        # nginx sends X-Forwarded-Proto: https (production redirects plain HTTP).
        headers = {"X-Forwarded-Proto": "https", "Host": "oa.example.gov.cn"}
        url = f"http://127.0.0.1:{port}/api/v1/health/"
        try:
            wait_until(
                lambda: stack.all_running() and http("GET", url, headers=headers)[0] == 200,
                180,
                "health 200 from the native production stack",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.logs()}") from None
        status, body = http("GET", url, headers=headers)
        assert status == 200 and isinstance(body, dict), body
        assert body["status"] == "ok"
        assert body["database"]["ok"] and body["broker"]["ok"]
        # Without X-Forwarded-Proto, production redirects to HTTPS.
        assert http("GET", url, headers={"Host": "oa.example.gov.cn"})[0] == 301

        # Beat's heartbeat went through Redis to the worker, which wrote it to the cache.
        try:
            wait_until(lambda: _worker_seen(url, headers), 120, "beat's heartbeat via the worker")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.logs()}") from None

        # The containers' health-check script agrees, for each role.
        for role in ("web", "worker", "beat"):
            check = subprocess.run(
                [PYTHON, str(REPO / "docker" / "healthcheck.py"), role],
                cwd=str(REPO),
                env=stack.service_env(role),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert check.returncode == 0, (role, check.stdout, check.stderr)
            assert f"{role}: healthy" in check.stdout

        pids = stack.remember()
        codes = stack.stop()
        assert codes == {"web": 0, "worker": 0, "beat": 0}, stack.logs()
        # The main processes have exited; their last children may still be on the way
        # out (not yet reaped): wait for that, rather than look once.
        wait_until(lambda: not alive(pids), 30, "every process of the stack to be gone")
    finally:
        stack.cleanup()

    # With the stack gone, the web health check says so.
    check = subprocess.run(
        [PYTHON, str(REPO / "docker" / "healthcheck.py"), "web"],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 1, check.stdout
    assert "web: unhealthy" in check.stdout
