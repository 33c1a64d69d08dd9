"""Which device holds a VPN pool address: the lookup the network-zone middleware and
the JWT authentication use on every request from the pool. Docs: docs/vpn.md#key-lending.

Cached in the shared cache for GOVDESK_VPN_PEER_CACHE_SECONDS; every action that
changes who holds an address (approval, revocation) clears the entry at once and
again after its commit, so a revoked phone is refused by the API from the next
request, before the gateway agent has even removed its peer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from vpn_gateway.pool import AddressPool

CACHE_PREFIX = "vpn:peer:"


@dataclass(frozen=True)
class VpnPeer:
    """The device behind a pool address, as attached to ``request.vpn_peer``."""

    address: str
    device_id: int
    user_id: int
    expires_on: date


@functools.lru_cache(maxsize=4)
def _pool(cidr: str, gateway: str) -> AddressPool:
    return AddressPool.parse(cidr, gateway or None)


def pool() -> AddressPool:
    return _pool(settings.GOVDESK_VPN_POOL, settings.GOVDESK_VPN_GATEWAY_ADDRESS)


def in_pool(address: str | None) -> bool:
    return address is not None and address in pool()


def _load(address: str) -> VpnPeer | None:
    from api.vpn.models import DeviceStatus, VpnDevice

    row = (
        VpnDevice.objects.filter(address=address, status=DeviceStatus.APPROVED)
        .values("id", "user_id", "expires_on")
        .first()
    )
    if row is None:
        return None
    return VpnPeer(address, row["id"], row["user_id"], row["expires_on"])


def peer_for_address(address: str) -> VpnPeer | None:
    """The live device holding ``address`` (approved, not expired), or None."""
    ttl = settings.GOVDESK_VPN_PEER_CACHE_SECONDS
    key = CACHE_PREFIX + address
    cached = cache.get(key) if ttl else None
    if cached is None:
        peer = _load(address)
        if ttl:
            cache.set(key, ("peer", peer) if peer else ("none", None), ttl)
    else:
        peer = cached[1]
    if peer is not None and peer.expires_on < timezone.localdate():
        return None
    return peer


def forget(address: str | None) -> None:
    """Drop the cached holder of ``address`` now and again after the commit."""
    if not address:
        return
    key = CACHE_PREFIX + address
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
