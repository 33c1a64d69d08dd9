"""The production password hasher (docs/identity.md#password-hashing).

tests/settings.py swaps in MD5 for speed, so these tests read ``api.settings``
directly and hash with the production list explicitly.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    check_password,
    identify_hasher,
    make_password,
)
from django.test import override_settings

import api.settings as production
from api.accounts.hashers import GovDeskArgon2PasswordHasher

PRODUCTION_HASHERS = production.PASSWORD_HASHERS


def test_production_settings_use_the_govdesk_argon2id_profile():
    assert PRODUCTION_HASHERS[0] == "api.accounts.hashers.GovDeskArgon2PasswordHasher"
    # PBKDF2 stays listed so that hashes made before the switch still verify.
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in PRODUCTION_HASHERS
    assert not any("MD5" in h or "SHA1" in h or "Unsalted" in h for h in PRODUCTION_HASHERS)


def test_profile_parameters():
    hasher = GovDeskArgon2PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (2, 19 * 1024, 1)
    assert hasher.algorithm == "argon2"


@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_hashes_are_argon2id_with_the_profile_and_verify():
    encoded = make_password("Str0ng!Passw0rd")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), GovDeskArgon2PasswordHasher)
    assert check_password("Str0ng!Passw0rd", encoded)
    assert not check_password("wrong", encoded)
    assert GovDeskArgon2PasswordHasher().must_update(encoded) is False


@pytest.mark.parametrize("older", [Argon2PasswordHasher, PBKDF2PasswordHasher])
@override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS)
def test_older_hashes_verify_and_are_upgraded_on_login(older):
    encoded = older().encode("Str0ng!Passw0rd", older().salt())
    upgraded: list[str] = []
    assert check_password("Str0ng!Passw0rd", encoded, setter=upgraded.append)
    assert upgraded == ["Str0ng!Passw0rd"]  # Django re-hashes with the first hasher
