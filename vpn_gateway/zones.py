"""Network-zone policy: which source addresses may use the platform.

Docs: docs/security.md#network-zones. Plain Python (no Django): the API's middleware
and the gateway agent both use it.

The client address is the TCP peer, unless the peer is a trusted proxy: then
X-Forwarded-For is read from the right, skipping trusted proxies, and the first
untrusted address is the client. A peer outside the trusted proxies cannot make
its X-Forwarded-For count, so it cannot spoof its way into an allowed network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(value: str | None) -> IPAddress | None:
    """An address from a peer or header value; None when it is not an IP address."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "10.0.0.1:5000"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class ZoneDecision:
    client: IPAddress | None
    allowed: bool
    via_proxy: bool


class NetworkZonePolicy:
    def __init__(self, allowed: Iterable[IPNetwork], trusted_proxies: Iterable[IPNetwork] = ()):
        self.allowed = tuple(allowed)
        self.trusted_proxies = tuple(trusted_proxies)

    @staticmethod
    def _within(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
        return any(address.version == net.version and address in net for net in networks)

    def is_trusted_proxy(self, address: IPAddress) -> bool:
        return self._within(address, self.trusted_proxies)

    def client_address(self, peer: str | None, forwarded_for: str | None) -> IPAddress | None:
        """The real client: the peer, or — only behind trusted proxies — the
        right-most untrusted X-Forwarded-For entry."""
        peer_address = parse_address(peer)
        if peer_address is None:
            return None
        if not forwarded_for or not self.is_trusted_proxy(peer_address):
            return peer_address
        hops = [h for h in (part.strip() for part in forwarded_for.split(",")) if h]
        client = peer_address
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                # A garbled hop from a trusted proxy's chain: stop at the last good one.
                return client if not self.is_trusted_proxy(client) else None
            client = address
            if not self.is_trusted_proxy(address):
                return address
        return client

    def decide(self, peer: str | None, forwarded_for: str | None) -> ZoneDecision:
        client = self.client_address(peer, forwarded_for)
        allowed = client is not None and self._within(client, self.allowed)
        peer_address = parse_address(peer)
        via_proxy = bool(
            forwarded_for and peer_address is not None and self.is_trusted_proxy(peer_address)
        )
        return ZoneDecision(client=client, allowed=allowed, via_proxy=via_proxy)
