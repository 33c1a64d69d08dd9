"""The VPN address pool: one IPv4 address per device. Docs: docs/vpn.md#addresses.

The pool is a CIDR network (``GOVDESK_VPN_POOL``, e.g. ``10.99.0.0/16``). The
network address, the broadcast address and the gateway's own address (the first
host unless configured) are never handed out. The caller passes every address that
is unavailable: those held by live devices and those of devices revoked or expired
within the quarantine period — so a log line that names an address keeps naming one
device for that long (docs/vpn.md#addresses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass


class PoolExhausted(RuntimeError):
    """Every address of the pool is in use or in quarantine."""


@dataclass(frozen=True)
class AddressPool:
    network: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address

    @classmethod
    def parse(cls, cidr: str, gateway: str | None = None) -> AddressPool:
        network = ipaddress.ip_network(cidr.strip(), strict=True)
        if not isinstance(network, ipaddress.IPv4Network):
            raise ValueError("the VPN pool must be an IPv4 network")
        if network.num_addresses < 4:
            raise ValueError("the VPN pool needs at least a /30")
        gateway_address = (
            ipaddress.IPv4Address(gateway.strip()) if gateway else network.network_address + 1
        )
        if gateway_address not in network:
            raise ValueError("the gateway address must lie inside the VPN pool")
        return cls(network=network, gateway=gateway_address)

    def __contains__(self, address: object) -> bool:
        try:
            parsed = ipaddress.ip_address(str(address))
        except ValueError:
            return False
        return isinstance(parsed, ipaddress.IPv4Address) and parsed in self.network

    def is_assignable(self, address: str | ipaddress.IPv4Address) -> bool:
        """Inside the pool and not the network, broadcast or gateway address."""
        try:
            parsed = ipaddress.ip_address(str(address))
        except ValueError:
            return False
        return (
            isinstance(parsed, ipaddress.IPv4Address)
            and parsed in self.network
            and parsed not in (self.network.network_address, self.network.broadcast_address)
            and parsed != self.gateway
        )

    def allocate(self, unavailable: Iterable[str | ipaddress.IPv4Address]) -> ipaddress.IPv4Address:
        """The lowest assignable address not in ``unavailable``."""
        taken = {ipaddress.ip_address(str(a)) for a in unavailable}
        for address in self.network.hosts():
            if address != self.gateway and address not in taken:
                return address
        raise PoolExhausted(f"no free address in {self.network}")
