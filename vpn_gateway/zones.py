"""Network-zone policy: which source addresses may use the platform.

Docs: docs/network-zones.md. Plain Python (no Django): the API's middleware
(api/vpn/middleware.py) and the gateway agent both use it.

The client address is the TCP peer, unless the peer is a trusted proxy: then
X-Forwarded-For is read from the right, skipping trusted proxies, and the first
address that is not a trusted proxy is the client. Entries to the left of it are
never looked at — they are whatever the client chose to send. A peer outside the
trusted proxies cannot make its X-Forwarded-For count at all, so it cannot spoof its
way into an allowed network: for an untrusted peer the decision is exactly the
decision for the peer alone.

Addresses are compared after normalisation: an IPv4-mapped IPv6 address
(``::ffff:10.0.0.1``, what a dual-stack socket reports for an IPv4 client) is the
IPv4 address; a port (``10.0.0.1:5000``, ``[2001:db8::1]:443``) and an IPv6 zone id
(``fe80::1%eth0``) are dropped. Anything else that is not an IP address — ``unknown``,
an obfuscated ``_hidden`` name, an empty string, a leading-zero IPv4 address — is
garbage: a trusted proxy that forwards garbage leaves the client unknown, and an
unknown client is refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# More trusted hops than this in one X-Forwarded-For means a loop or an attack.
MAX_FORWARDED_HOPS = 32
MAX_ADDRESS_CHARS = 64

_PORT = re.compile(r":[0-9]{1,5}")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")

# Reasons a decision gives (also written to the audit record of a refusal).
ALLOWED = "allowed"
OUTSIDE = "outside_allowed_networks"
NO_PEER = "peer_address_unknown"
BAD_FORWARDED = "forwarded_for_unparseable"
TOO_MANY_HOPS = "forwarded_for_too_long"


def parse_address(value: str | None) -> IPAddress | None:
    """An address from a peer or header value; None when it is not an IP address."""
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > MAX_ADDRESS_CHARS:
        return None
    if text.startswith("["):  # "[2001:db8::1]" or "[2001:db8::1]:443"
        end = text.find("]")
        rest = text[end + 1 :] if end > 0 else None
        if rest is None or (rest and not _PORT.fullmatch(rest)):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # "10.0.0.1:5000"
        host, _, port = text.partition(":")
        if not _PORT.fullmatch(":" + port):
            return None
        text = host
    if "%" in text:  # an IPv6 zone id names a local interface; it is not part of the address
        text, _, zone = text.partition("%")
        if ":" not in text or not zone:
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(value: str | IPNetwork) -> list[IPNetwork]:
    """A CIDR network (a string or a network object) as the networks to match
    against normalised addresses: an IPv4-mapped IPv6 network becomes IPv4."""
    network = (
        value
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network)
        else ipaddress.ip_network(str(value).strip(), strict=False)
    )
    if isinstance(network, ipaddress.IPv6Network):
        if network.subnet_of(_MAPPED):
            start = network.network_address.ipv4_mapped
            assert start is not None
            return [ipaddress.IPv4Network((start, network.prefixlen - 96))]
        if network.supernet_of(_MAPPED):
            return [network, ipaddress.IPv4Network("0.0.0.0/0")]
    return [network]


def parse_networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    return tuple(net for value in values for net in parse_network(value))


@dataclass(frozen=True)
class ZoneDecision:
    client: IPAddress | None
    allowed: bool
    via_proxy: bool
    reason: str = ALLOWED


class NetworkZonePolicy:
    def __init__(
        self,
        allowed: Iterable[str | IPNetwork],
        trusted_proxies: Iterable[str | IPNetwork] = (),
    ) -> None:
        self.allowed = parse_networks(allowed)
        self.trusted_proxies = parse_networks(trusted_proxies)

    @staticmethod
    def _within(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
        return any(address.version == net.version and address in net for net in networks)

    def is_allowed(self, address: IPAddress) -> bool:
        return self._within(address, self.allowed)

    def is_trusted_proxy(self, address: IPAddress) -> bool:
        return self._within(address, self.trusted_proxies)

    def _resolve(self, peer: str | None, forwarded_for: str | None) -> tuple[IPAddress | None, str]:
        peer_address = parse_address(peer)
        if peer_address is None:
            return None, NO_PEER
        if not forwarded_for or not self.is_trusted_proxy(peer_address):
            return peer_address, ALLOWED
        hops = [hop for hop in (part.strip() for part in forwarded_for.split(",")) if hop]
        client = peer_address
        for count, hop in enumerate(reversed(hops)):
            if count >= MAX_FORWARDED_HOPS:
                return None, TOO_MANY_HOPS
            address = parse_address(hop)
            if address is None:
                # A trusted proxy reported something that is not an address: the
                # client is unknown (never guess past it).
                return None, BAD_FORWARDED
            if not self.is_trusted_proxy(address):
                return address, ALLOWED
            client = address
        # Every hop is a trusted proxy: the request began at the left-most one.
        return client, ALLOWED

    def client_address(self, peer: str | None, forwarded_for: str | None) -> IPAddress | None:
        """The real client: the peer, or — only behind trusted proxies — the
        right-most X-Forwarded-For entry that is not a trusted proxy."""
        return self._resolve(peer, forwarded_for)[0]

    def decide(self, peer: str | None, forwarded_for: str | None) -> ZoneDecision:
        client, reason = self._resolve(peer, forwarded_for)
        peer_address = parse_address(peer)
        via_proxy = bool(
            forwarded_for and peer_address is not None and self.is_trusted_proxy(peer_address)
        )
        allowed = client is not None and self.is_allowed(client)
        if client is not None and not allowed:
            reason = OUTSIDE
        return ZoneDecision(client=client, allowed=allowed, via_proxy=via_proxy, reason=reason)


@lru_cache(maxsize=16)
def cached_policy(
    allowed: tuple[str | IPNetwork, ...], trusted_proxies: tuple[str | IPNetwork, ...]
) -> NetworkZonePolicy:
    """One policy per configuration (callers pass the configured values as tuples)."""
    return NetworkZonePolicy(allowed, trusted_proxies)
