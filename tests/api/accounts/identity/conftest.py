"""Fixtures for the identity tests (docs/identity.md)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.accounts.models import User


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def bob(personas) -> User:
    """A clerk: no role of his requires TOTP."""
    return personas["bob"]


@pytest.fixture
def custodian(org) -> User:
    """A seal custodian: the role requires TOTP (GOVDESK_TOTP_REQUIRED_ROLES)."""
    from tests.personas import Role, make_user

    return make_user("custodian", org.office, Role.SEAL_CUSTODIAN, Role.STAFF)


@pytest.fixture
def with_totp():
    """``with_totp(user)`` enables TOTP for ``user`` directly; returns the secret."""
    import pyotp
    from django.utils import timezone

    def enable(user: User) -> str:
        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_secret", "totp_confirmed_at"])
        return user.totp_secret

    return enable
