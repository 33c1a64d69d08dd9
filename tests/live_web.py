"""A real gunicorn serving the API against the test database, for crash tests.

Started on a free loopback port with its own var dir; ``kill()`` sends SIGKILL to the
whole process group (master and workers: a crash, nothing cleans up), ``start()``
again is a restart. Needs a database another process can open (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

from tests.deploy.helpers import PYTHON, REPO, clean_env, free_port, stop_process, tail


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


class LiveWeb:
    def __init__(self, var_dir: Path, *, workers: int = 2, threads: int = 4, **env: str) -> None:
        self.var_dir = var_dir
        self.workers = workers
        self.threads = threads
        self.extra_env = env
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log = var_dir / "gunicorn.log"
        var_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return clean_env(
            DJANGO_SETTINGS_MODULE="api.settings",
            GOVDESK_MODE="test",
            GOVDESK_VAR_DIR=str(self.var_dir),
            DATABASE_URL=database_url(),
            CELERY_TASK_ALWAYS_EAGER="false",
            **self.extra_env,
        )

    def start(self, **env: str) -> LiveWeb:
        self.extra_env.update(env)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "api.wsgi:application", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--threads",
             str(self.threads), "--timeout", "60", "--graceful-timeout", "5"],
            cwd=REPO, env=self.env(), stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited\n{tail(self.log)}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health/", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer\n{tail(self.log)}")

    def kill(self) -> None:
        """SIGKILL master and workers at once: a crash."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc, signal.SIGTERM, timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
