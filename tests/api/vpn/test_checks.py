"""The VPN settings are system checks of the vpn app (api/vpn/checks.py, docs/vpn.md)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from api.vpn.checks import vpn_settings

pytestmark = pytest.mark.django_db  # the app's autouse fixtures use the database


def ids() -> list[str]:
    return [error.id for error in vpn_settings()]


def test_the_default_settings_pass():
    assert ids() == []


@override_settings(GOVDESK_VPN_POOL="10.99.0.0/33")
def test_a_bad_pool_is_an_error():
    assert ids() == ["vpn.E001"]


@override_settings(GOVDESK_VPN_ENDPOINT="vpn.example")
def test_an_endpoint_without_a_port_is_an_error():
    assert ids() == ["vpn.E002"]


@override_settings(GOVDESK_VPN_SERVER_PUBLIC_KEY="not-a-key")
def test_a_server_key_that_is_not_a_wireguard_key_is_an_error():
    assert ids() == ["vpn.E003"]
