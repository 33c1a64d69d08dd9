"""Login backoff and lockout, and the request-rate throttle of the login endpoints.

Docs: docs/identity.md#lockout. Two layers:

1. ``LoginRateThrottle`` (DRF scope ``login``, rate ``GOVDESK_LOGIN_RATE``): plain
   request rate per client address, in the cache. Answers 429 ``throttled``.
2. ``LoginThrottle`` rows (database, so every web process sees the same counts):
   failed attempts are counted per username — whether or not it exists — and per
   source address. When a key reaches its threshold it is locked for
   GOVDESK_LOGIN_LOCKOUT_SECONDS; every further threshold's worth of failures locks
   it again for twice as long, up to MAX_LOCKOUT_SECONDS. Failures are forgotten
   after FAILURE_MEMORY_SECONDS without one; a successful login resets the
   username's counter (never the address's). Answers 429 ``account_locked``.

Username keys are stored hashed, so typos of passwords into the username field do
not end up in this table in clear text.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.accounts.models import LoginThrottle

# An address is shared by everyone behind it (a liaison office's NAT, the demo's
# loopback): it locks only after this many times the per-username threshold.
ADDRESS_FACTOR = 4
MAX_LOCKOUT_SECONDS = 24 * 3600
FAILURE_MEMORY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LoginKey:
    key: str
    kind: str  # "username" or "address"
    threshold: int


@dataclass(frozen=True)
class Lockout:
    kind: str
    seconds: int
    failures: int


def username_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:40]
    return f"user:{digest}"


def login_keys(username: str, address: str | None) -> list[LoginKey]:
    limit = settings.GOVDESK_LOGIN_MAX_FAILURES
    keys = [LoginKey(username_key(username), "username", limit)]
    if address:
        keys.append(LoginKey(f"addr:{address}", "address", limit * ADDRESS_FACTOR))
    return keys


def lockout_seconds(lockouts: int) -> int:
    """Length of the n-th consecutive lockout (1-based): doubling, bounded."""
    base = settings.GOVDESK_LOGIN_LOCKOUT_SECONDS
    return min(base * 2 ** min(lockouts - 1, 20), max(MAX_LOCKOUT_SECONDS, base))


def locked_for(keys: list[LoginKey], at: datetime | None = None) -> int:
    """Seconds until every key is unlocked (0 when none is locked)."""
    now: datetime = at or timezone.now()
    until = LoginThrottle.objects.filter(
        key__in=[k.key for k in keys], locked_until__gt=now
    ).values_list("locked_until", flat=True)
    remaining = [math.ceil((u - now).total_seconds()) for u in until if u is not None]
    return max(remaining, default=0)


def register_failure(keys: list[LoginKey], at: datetime | None = None) -> list[Lockout]:
    """Count one failure against each key; return the lockouts it started.

    Must run inside ``transaction.atomic()``: each row is locked (``select_for_update``)
    so concurrent failures from many processes are all counted.
    """
    now: datetime = at or timezone.now()
    started: list[Lockout] = []
    for login_key in sorted(keys, key=lambda k: k.key):  # fixed order: no deadlocks
        row, _created = LoginThrottle.objects.select_for_update().get_or_create(
            key=login_key.key, defaults={"updated_at": now}
        )
        idle = (now - (row.updated_at or now)).total_seconds()
        lock_over = row.locked_until is None or row.locked_until <= now
        if lock_over and idle > FAILURE_MEMORY_SECONDS:
            row.failures = 0
        row.failures += 1
        row.updated_at = now
        if row.failures % login_key.threshold == 0:
            seconds = lockout_seconds(row.failures // login_key.threshold)
            row.locked_until = now + timedelta(seconds=seconds)
            started.append(Lockout(login_key.kind, seconds, row.failures))
        row.save(update_fields=["failures", "updated_at", "locked_until"])
    return started


def reset_username(username: str) -> None:
    """A successful login or password change forgets the username's failures."""
    LoginThrottle.objects.filter(key=username_key(username)).delete()


def stale_rows(at: datetime | None = None):
    """Rows neither locked nor touched within FAILURE_MEMORY_SECONDS."""
    now: datetime = at or timezone.now()
    return LoginThrottle.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
        updated_at__lt=now - timedelta(seconds=FAILURE_MEMORY_SECONDS),
    )


class LoginRateThrottle(SimpleRateThrottle):
    """Requests per client address on the login endpoints (scope ``login``)."""

    scope = "login"

    def get_rate(self) -> str | None:
        # Read at request time so a changed setting applies without a re-import.
        rates: dict = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        address = getattr(request._request, "client_address", None) or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": address}
