"""Password hashing cost, chosen for the 08:30 login rush.

Docs: docs/security.md#password-hashing. Argon2id with OWASP's minimum profile
(19 MiB, t=2, p=1): one hash takes tens of milliseconds on one core, so a 2-core
web node verifies ~50 logins/s — a city's 8,165 users signing in within ten
minutes need ~14/s. Django's default (100 MiB, p=8) would cost ~5× the memory per
concurrent login. ``tests/bench/test_login_rush.py`` measures both in one run.
Existing hashes are upgraded on the next successful login (must_update).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class GovDeskArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
