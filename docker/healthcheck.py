#!/usr/bin/env python3
"""Container health checks: ``govdesk-healthcheck web|worker|beat|smpp-receipts``.

Docs: docs/operations.md#health. Exit status 0 = healthy, 1 = unhealthy (Docker's rule).

web     ``GET /api/v1/health/`` on the local gunicorn answers 200, i.e. the database
        and the broker are reachable (``GOVDESK_HEALTHCHECK_URL`` overrides the URL).
        The request carries the first ``ALLOWED_HOSTS`` name as Host and, in
        production, ``X-Forwarded-Proto: https`` so the HTTPS redirect does not answer
        instead; 127.0.0.1 must be in ``GOVDESK_ALLOWED_NETWORKS``.
worker  this container's Celery worker answers a ping through the broker
        (``celery inspect ping``; node ``celery@<hostname>`` unless
        ``GOVDESK_WORKER_NODENAME`` says otherwise).
beat    beat's schedule file was written in the last ``GOVDESK_BEAT_MAX_AGE`` seconds
        (600): beat rewrites it every few minutes while it ticks.
smpp-receipts  ``manage.py notify_smpp_receipts`` touched its heartbeat file
        (``GOVDESK_SMPP_RECEIPTS_HEARTBEAT``, /tmp/govdesk-smpp-receipts.alive) in the
        last 120 s.
"""

from __future__ import annotations

import glob
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/api/v1/health/"


def _host_header() -> str | None:
    for name in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = name.strip().lstrip(".")
        if name and name != "*":
            return name
    return None


def check_web() -> tuple[bool, str]:
    url = os.environ.get("GOVDESK_HEALTHCHECK_URL") or DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        return False, f"GOVDESK_HEALTHCHECK_URL={url!r} is not an http(s) URL"
    request = urllib.request.Request(url)  # noqa: S310 - scheme checked above
    host = _host_header()
    if host:
        request.add_header("Host", host)
    if os.environ.get("GOVDESK_MODE") == "production":
        request.add_header("X-Forwarded-Proto", "https")
    try:
        with urllib.request.urlopen(request, timeout=8) as response:  # noqa: S310
            return response.status == 200, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}: {exc.read()[:300].decode('utf-8', 'replace')}"
    except OSError as exc:
        return False, str(exc)


def check_worker() -> tuple[bool, str]:
    node = os.environ.get("GOVDESK_WORKER_NODENAME") or f"celery@{socket.gethostname()}"
    celery = os.path.join(os.path.dirname(sys.executable), "celery")
    argv = [celery if os.path.exists(celery) else "celery", "-A", "api", "inspect", "ping"]
    result = subprocess.run(  # noqa: S603 - fixed argv
        [*argv, "--destination", node, "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()[-300:]


def check_beat() -> tuple[bool, str]:
    var_dir = os.environ.get("GOVDESK_VAR_DIR") or "/var/lib/govdesk"
    schedule = os.environ.get("GOVDESK_BEAT_SCHEDULE") or os.path.join(
        var_dir, "celerybeat-schedule"
    )
    max_age = float(os.environ.get("GOVDESK_BEAT_MAX_AGE") or 600)
    files = glob.glob(glob.escape(schedule) + "*")
    if not files:
        return False, f"no schedule file {schedule}"
    age = time.time() - max(os.path.getmtime(f) for f in files)
    return age <= max_age, f"schedule written {age:.0f} s ago (limit {max_age:.0f} s)"


SMPP_HEARTBEAT = "/tmp/govdesk-smpp-receipts.alive"  # noqa: S108 - the container's own tmpfs


def check_smpp_receipts() -> tuple[bool, str]:
    """The receipt receiver touches its heartbeat file on every loop (about once a
    second, connected or reconnecting), so a stale file means a hung process."""
    path = os.environ.get("GOVDESK_SMPP_RECEIPTS_HEARTBEAT") or SMPP_HEARTBEAT
    if not os.path.exists(path):
        return False, f"no heartbeat file {path}"
    age = time.time() - os.path.getmtime(path)
    return age <= 120, f"heartbeat {age:.0f} s ago (limit 120 s)"


CHECKS = {
    "web": check_web,
    "worker": check_worker,
    "beat": check_beat,
    "smpp-receipts": check_smpp_receipts,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in CHECKS:
        sys.stderr.write(f"usage: {argv[0]} {'|'.join(CHECKS)}\n")
        return 2
    ok, detail = CHECKS[argv[1]]()
    sys.stdout.write(f"{argv[1]}: {'healthy' if ok else 'unhealthy'} ({detail})\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
