"""System checks of the VPN settings (docs/vpn.md#settings): the address pool, the
public endpoint and the server's key must be usable before anything is enrolled.

Docs: docs/vpn.md and docs/operations.md#settings. Run by ``manage.py check`` and by
every management command that checks (migrate, runserver, the demo launcher's steps).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from vpn_gateway.config import valid_endpoint
from vpn_gateway.keys import is_valid_key
from vpn_gateway.pool import AddressPool


@register()
def vpn_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    try:
        AddressPool.parse(settings.GOVDESK_VPN_POOL, settings.GOVDESK_VPN_GATEWAY_ADDRESS or None)
    except ValueError as exc:
        errors.append(
            Error(f"GOVDESK_VPN_POOL / GOVDESK_VPN_GATEWAY_ADDRESS: {exc}", id="vpn.E001")
        )
    endpoint = settings.GOVDESK_VPN_ENDPOINT
    if endpoint and not valid_endpoint(endpoint):
        errors.append(
            Error("GOVDESK_VPN_ENDPOINT must be host:port, e.g. vpn.example:51820", id="vpn.E002")
        )
    key = settings.GOVDESK_VPN_SERVER_PUBLIC_KEY
    if key and not is_valid_key(key):
        errors.append(
            Error("GOVDESK_VPN_SERVER_PUBLIC_KEY is not a WireGuard public key", id="vpn.E003")
        )
    return errors
