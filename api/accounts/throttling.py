"""Login backoff and lockout, and the request-rate throttle of the login endpoints.

Docs: docs/identity.md#lockout (the policy, mapped to OWASP ASVS V2.2). Layers:

1. ``LoginRateThrottle`` (DRF scope ``login``, rate ``GOVDESK_LOGIN_RATE``, default
   1200/min): plain request rate per client address, in the cache, sized so that a
   NAT of hundreds of users can all sign in within a minute. 429 ``throttled``.
2. ``LoginThrottle`` rows (database, so every web process sees the same counts),
   three kinds of key per attempt:

   * ``account_address`` — one account from one source address: locked for
     GOVDESK_LOGIN_LOCKOUT_SECONDS after GOVDESK_LOGIN_MAX_FAILURES failures, doubling
     on every further threshold, at most MAX_LOCKOUT_SECONDS. Guessing from one place
     stops; the owner signing in from another address is not affected.
   * ``account`` — one account from every address (a distributed guesser): above
     GOVDESK_LOGIN_ACCOUNT_CEILING failures each further failure imposes a
     **progressive delay** (1, 2, 4 … s, at most GOVDESK_LOGIN_SLOWDOWN_MAX_SECONDS)
     instead of a lock, and never on an address the account signed in from within
     KNOWN_ADDRESS_DAYS; crossing the ceiling alerts the city IT admins
     (``login_ceiling_reached``) and is audited (``auth.account_ceiling``).
   * ``address`` — one source address over every account (spraying): locked after
     GOVDESK_LOGIN_ADDRESS_MAX_FAILURES (default 200: a NAT of hundreds mistyping).

   Failures are forgotten after FAILURE_MEMORY_SECONDS without one; a successful
   sign-in resets the account's keys (never the address's). A city IT admin can
   unlock an account (``unlock_account``). Answers 429 ``account_locked``.

Step-up codes (seal, any TOTP/passkey confirmation) count against the same keys
(``api.accounts.actions.identity.count_step_up_failure``).

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

MAX_LOCKOUT_SECONDS = 24 * 3600
FAILURE_MEMORY_SECONDS = 24 * 3600
KNOWN_ADDRESS_DAYS = 30
LOCK = "lock"
SLOW = "slow"


@dataclass(frozen=True)
class LoginKey:
    key: str
    kind: str  # "account_address", "account" or "address"
    threshold: int
    mode: str = LOCK  # LOCK: locked per threshold; SLOW: progressive delay above it


@dataclass(frozen=True)
class Lockout:
    kind: str
    seconds: int
    failures: int


def username_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:40]
    return f"user:{digest}"


def pair_prefix(username: str) -> str:
    return "pair:" + username_key(username).split(":", 1)[1] + ":"


def login_keys(username: str, address: str | None) -> list[LoginKey]:
    """The keys one attempt on ``username`` from ``address`` counts against. Without
    a username (a passkey not yet identified) only the address key."""
    limit = settings.GOVDESK_LOGIN_MAX_FAILURES
    keys: list[LoginKey] = []
    if username:
        # Without an address the account's own key locks, as the pair would.
        keys.append(LoginKey(pair_prefix(username) + (address or "-"), "account_address", limit))
        keys.append(
            LoginKey(
                username_key(username), "account", settings.GOVDESK_LOGIN_ACCOUNT_CEILING, SLOW
            )
        )
    if address:
        keys.append(
            LoginKey(f"addr:{address}", "address", settings.GOVDESK_LOGIN_ADDRESS_MAX_FAILURES)
        )
    return keys


def slowdown_seconds(over: int) -> int:
    """The delay after the ``over``-th failure above the account ceiling (1-based)."""
    return min(2 ** min(over - 1, 20), settings.GOVDESK_LOGIN_SLOWDOWN_MAX_SECONDS)


def is_known_address(username: str, address: str | None, at: datetime | None = None) -> bool:
    """The account signed in from ``address`` recently: the account-wide slowdown does
    not apply there (the owner at their usual desk is never slowed by a guesser)."""
    if not username or not address:
        return False
    from api.accounts.models import UserSession

    since = (at or timezone.now()) - timedelta(days=KNOWN_ADDRESS_DAYS)
    return UserSession.objects.filter(
        user__username=username, ip_address=address, created_at__gte=since
    ).exists()


def lockout_seconds(lockouts: int) -> int:
    """Length of the n-th consecutive lockout (1-based): doubling, bounded."""
    base = settings.GOVDESK_LOGIN_LOCKOUT_SECONDS
    return min(base * 2 ** min(lockouts - 1, 20), max(MAX_LOCKOUT_SECONDS, base))


def locked_for(
    keys: list[LoginKey], at: datetime | None = None, *, known_address: bool = False
) -> int:
    """Seconds until every key is unlocked (0 when none is locked). On a known address
    the account-wide slowdown (SLOW keys) does not apply."""
    now: datetime = at or timezone.now()
    wanted = [k.key for k in keys if not (known_address and k.mode == SLOW)]
    until = LoginThrottle.objects.filter(key__in=wanted, locked_until__gt=now).values_list(
        "locked_until", flat=True
    )
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
        if login_key.mode == SLOW:
            if row.failures > login_key.threshold:
                over = row.failures - login_key.threshold
                row.locked_until = now + timedelta(seconds=slowdown_seconds(over))
            if row.failures == login_key.threshold + 1:  # crossed the ceiling: alert once
                started.append(Lockout(login_key.kind, slowdown_seconds(1), row.failures))
        elif row.failures % login_key.threshold == 0:
            seconds = lockout_seconds(row.failures // login_key.threshold)
            row.locked_until = now + timedelta(seconds=seconds)
            started.append(Lockout(login_key.kind, seconds, row.failures))
        row.save(update_fields=["failures", "updated_at", "locked_until"])
    return started


def reset_username(username: str, address: str | None = None, *, everywhere: bool = False) -> None:
    """A successful sign-in forgets the account's failures from that address; the
    account-wide count decays on its own (a guesser elsewhere is not excused by the
    owner signing in). A password change (``everywhere``) forgets them all."""
    if everywhere:
        unlock_account(username)
        return
    LoginThrottle.objects.filter(key=pair_prefix(username) + (address or "-")).delete()


def unlock_account(username: str) -> int:
    """An administrator's unlock: every key of the account, from every address."""
    deleted, _ = LoginThrottle.objects.filter(
        Q(key__startswith=pair_prefix(username)) | Q(key=username_key(username))
    ).delete()
    return deleted


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
