"""Password hashing cost, chosen for the 08:30 login rush.

Docs: docs/identity.md#password-hashing. Argon2id with OWASP's minimum profile
(19 MiB, t=2, p=1): one check takes about 30 ms on one core, so one core verifies
~30 logins/s — a city's 8,165 users signing in within ten minutes need ~14/s on
average. Django's default Argon2 (100 MiB, p=8) costs ~5× the memory per concurrent
check and ~6× the time; ``tests/bench/test_login_rush.py`` (``make bench``) measures
the profiles in one run. Hashes made with another profile or PBKDF2 still verify
and are upgraded on the next successful login (``must_update``).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class GovDeskArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
