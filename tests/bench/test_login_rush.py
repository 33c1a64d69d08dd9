"""The 08:30 login rush: cost of one password check per hasher profile, in one run.

Docs: docs/identity.md#password-hashing. Run with ``make bench`` (never part of
``make test``). Prints, for GovDesk's Argon2id profile (19 MiB, t=2, p=1), Django's
default Argon2 (100 MiB, t=2, p=8) and Django's default PBKDF2-SHA256 (1,000,000
iterations): the median time of one check, the memory each concurrent check holds,
checks per second per core, and the ratios to GovDesk's profile — plus the rush
arithmetic for the reference city. Nothing asserts on wall time: the numbers are
for the reader; the test only checks that every hash verifies.
"""

from __future__ import annotations

import os
import statistics
import time

from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher

from api.accounts.hashers import GovDeskArgon2PasswordHasher

PASSWORD = "Str0ng!Passw0rd"
ROUNDS = int(os.environ.get("GOVDESK_BENCH_ROUNDS", "7"))

# The reference deployment (docs/identity.md#password-hashing).
CITY_USERS = 8_165
RUSH_SECONDS = 10 * 60


def _median_verify_seconds(hasher) -> float:
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert hasher.verify(PASSWORD, encoded)
    hasher.verify(PASSWORD, encoded)  # warm-up
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        ok = hasher.verify(PASSWORD, encoded)
        samples.append(time.perf_counter() - started)
        assert ok
    return statistics.median(samples)


def _memory_mib(hasher) -> float:
    """Memory one Argon2 check holds (PBKDF2's is negligible: reported as 0)."""
    return hasher.memory_cost / 1024 if hasattr(hasher, "memory_cost") else 0.0


def test_login_rush_hash_cost():
    profiles = [
        ("GovDesk Argon2id 19 MiB t=2 p=1", GovDeskArgon2PasswordHasher()),
        ("Django default Argon2 100 MiB t=2 p=8", Argon2PasswordHasher()),
        (f"Django default PBKDF2 {PBKDF2PasswordHasher.iterations:,} it.", PBKDF2PasswordHasher()),
    ]
    results = [(name, hasher, _median_verify_seconds(hasher)) for name, hasher in profiles]
    base = results[0][2]
    need = CITY_USERS / RUSH_SECONDS

    print()
    print(f"one password check, median of {ROUNDS} (this machine, one process)")
    print(f"{'profile':42} {'ms':>8} {'MiB':>6} {'checks/s/core':>14} {'× GovDesk':>10}")
    for name, hasher, seconds in results:
        print(
            f"{name:42} {seconds * 1000:8.1f} {_memory_mib(hasher):6.0f} "
            f"{1 / seconds:14.1f} {seconds / base:10.2f}"
        )
    print()
    print(
        f"08:30 rush: {CITY_USERS:,} users in {RUSH_SECONDS // 60} min = {need:.1f} logins/s "
        f"on average; a burst of 5x that is {5 * need:.0f}/s"
    )
    for name, _hasher, seconds in results:
        cores = 5 * need * seconds
        print(f"  {name:42} cores busy at the 5x burst: {cores:5.2f}")
    concurrent = 32
    for name, hasher, _seconds in results:
        mib = _memory_mib(hasher) * concurrent
        if mib:
            print(f"  {name:42} memory for {concurrent} concurrent checks: {mib:6.0f} MiB")
