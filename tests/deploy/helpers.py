"""Helpers for the deployment tests: processes, ports, HTTP. Docs: docs/operations.md.

Only the standard library: these tests start real processes (gunicorn, Celery) and
look at them from the outside, through /proc and HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# Variables of the pytest process (tests/settings.py pins some) that must not leak
# into the processes under test: each test states the environment it means.
_LEAKY_PREFIXES = ("GOVDESK_", "DJANGO_", "CELERY_", "SECRET_KEY", "DEBUG", "SECURE_")
_LEAKY_NAMES = {"DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "CORS_ALLOWED_ORIGINS"}


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_LEAKY_PREFIXES) and k not in _LEAKY_NAMES
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 3xx is an answer, not a hop
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(
    method: str, url: str, body: dict | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _opener.open(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class GiveUp(Exception):
    """Raised by a ``wait_until`` predicate when the event can no longer happen (the
    process that would cause it has exited): the wait fails at once."""


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.3
) -> object:
    """Polls ``predicate`` until it returns a true value (the event happened); the
    timeout is a bound for a failing run, not a measurement: make it generous."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except GiveUp as exc:
            raise AssertionError(f"gave up waiting for {what}: {exc}") from None
        except Exception as exc:  # kept for the failure message
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({last_error!r})")


def wait_for_health(url: str, timeout: float, alive: Callable[[], bool] | None = None) -> dict:
    """Polls a health URL until it answers 200; fails early if ``alive()`` turns false."""

    def ready() -> dict | None:
        if alive is not None and not alive():
            raise AssertionError("the process under test exited before health answered 200")
        try:
            status, body = http("GET", url)
        except OSError:
            return None
        return body if status == 200 and isinstance(body, dict) else None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = ready()
        if body:
            return body
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer 200 within {timeout:.0f} s")


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) for every process, from /proc."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." — comm may contain spaces and parentheses.
        rest = stat[stat.rfind(")") + 2 :].split()
        table[int(entry.name)] = (int(rest[1]), rest[0])
    return table


def descendants(pid: int) -> set[int]:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for child, (parent, _state) in table.items():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pids: Iterable[int]) -> set[int]:
    """The pids that still exist and are not zombies."""
    table = _proc_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def kill_tree(pids: Iterable[int]) -> None:
    """Last-resort cleanup after a failed test (never used on processes we did not start)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=5)


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
