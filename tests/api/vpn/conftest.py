"""Fixtures for the VPN API tests (docs/vpn.md): gateway settings, a clean peer cache,
and helpers that walk a device through request → approval."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from vpn_gateway.keys import generate_key_pair

SERVER_PRIVATE, SERVER_PUBLIC = generate_key_pair()
POOL = "10.99.0.0/24"


@pytest.fixture(autouse=True)
def vpn_settings(settings):
    settings.GOVDESK_VPN_POOL = POOL
    settings.GOVDESK_VPN_GATEWAY_ADDRESS = ""
    settings.GOVDESK_VPN_ENDPOINT = "vpn.example.gov.cn:51820"
    settings.GOVDESK_VPN_SERVER_PUBLIC_KEY = SERVER_PUBLIC
    settings.GOVDESK_VPN_CLIENT_ROUTES = ["10.0.0.0/8"]
    settings.GOVDESK_VPN_DNS = ["10.0.0.53"]
    settings.GOVDESK_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", POOL]
    cache.clear()
    yield settings
    cache.clear()
