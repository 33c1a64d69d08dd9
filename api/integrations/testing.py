"""Helpers for the tests of a connector. Docs: docs/integrations.md#testing-a-connector.

* ``run_fake(factory)`` — a context manager: starts ``factory()`` (a cityfakes handler)
  on a free loopback port in a thread, yields its base URL, stops it on exit.
* ``configure(monkeypatch, name, url, secret)`` — sets the connector's environment.
* ``process_all()`` — runs every pending record now, retries included (a test does not
  wait for backoff), until none is pending; returns how many were done.
* ``post_webhook(client, name, body, secret)`` — sends a signed webhook like the
  external system would.

Imported by tests only (never by the app's own code).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from api.integrations.actions import process
from api.integrations.config import env_prefix
from api.integrations.models import ReceivedRecord, RecordState
from cityfakes.server import Handler, serve
from cityfakes.signing import sign


@contextmanager
def run_fake(factory: Callable[[], Handler], port: int = 0) -> Iterator[str]:
    with serve(factory(), port=port) as url:
        yield url


def configure(
    monkeypatch: Any, name: str, url: str, secret: str, *, pull_seconds: int | None = None
) -> None:
    """Point connector ``name`` at ``url`` with ``secret`` (pytest's ``monkeypatch``: the
    environment is restored after the test)."""
    prefix = env_prefix(name)
    monkeypatch.setenv(prefix + "URL", url)
    monkeypatch.setenv(prefix + "SECRET", secret)
    monkeypatch.delenv(prefix + "SECRET_FILE", raising=False)
    if pull_seconds is not None:
        monkeypatch.setenv(prefix + "PULL_SECONDS", str(pull_seconds))


def process_all(connector: str | None = None, *, rounds: int | None = None) -> int:
    """Process pending records (of ``connector``, or all) ignoring their retry time,
    round after round until none is pending or ``rounds`` (default: the attempt limit
    + 1) are done. Returns how many records ended ``done``."""
    done = 0
    for _ in range(rounds or settings.GOVDESK_INTEGRATION_MAX_ATTEMPTS + 1):
        pending = ReceivedRecord.objects.filter(state=RecordState.PENDING)
        if connector is not None:
            pending = pending.filter(connector=connector)
        ids = list(pending.order_by("id").values_list("id", flat=True))
        if not ids:
            break
        done += sum(process(record_id, force=True) == "done" for record_id in ids)
    return done


def signed_body(
    secret: str, body: Any, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return raw, sign(secret, raw, timestamp)


def post_webhook(
    client: Any, name: str, body: Any, secret: str, *, timestamp: int | None = None
) -> Any:
    """POST ``body`` (a dict, or raw bytes) to the connector's webhook, signed with
    ``secret`` — through a DRF ``APIClient`` or Django test ``Client``."""
    raw, headers = signed_body(secret, body, timestamp)
    return client.generic(
        "POST",
        f"/api/v1/integrations/{name}/events/",
        raw,
        content_type="application/json",
        headers=headers,
    )
