"""WireGuard configuration text: the phone's wg-quick file (and its QR code) and the
gateway's peer set in ``wg syncconf`` form. Docs: docs/vpn.md.

Every value written into a file is validated first (keys, addresses, endpoint), so a
crafted value cannot add a line such as ``PostUp = …`` to a file wg-quick executes.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import segno

from vpn_gateway.keys import is_valid_key

# host:port, host a DNS name or an IPv4 address, or [IPv6]:port.
_ENDPOINT = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):[0-9]{1,5}"
)


def valid_endpoint(text: str) -> bool:
    if not _ENDPOINT.fullmatch(text or ""):
        return False
    port = int(text.rsplit(":", 1)[1])
    return 0 < port < 65536


def _networks(values: Iterable[str]) -> list[str]:
    return [str(ipaddress.ip_network(v.strip(), strict=False)) for v in values]


@dataclass(frozen=True)
class ClientConfig:
    """What a phone needs: its own address and key, and the gateway's."""

    address: str
    server_public_key: str
    endpoint: str
    allowed_ips: Sequence[str]
    private_key: str | None = None  # None: the device made its key and keeps it
    dns: Sequence[str] = ()
    keepalive_seconds: int = 25

    def render(self) -> str:
        """wg-quick text. Without a private key the ``PrivateKey`` line is left out:
        the device that generated the key adds it (docs/vpn.md#enrolling-a-phone)."""
        address = ipaddress.IPv4Address(self.address)
        if not is_valid_key(self.server_public_key):
            raise ValueError("the gateway's public key is not a WireGuard key")
        if self.private_key is not None and not is_valid_key(self.private_key):
            raise ValueError("the private key is not a WireGuard key")
        if not valid_endpoint(self.endpoint):
            raise ValueError("the endpoint must be host:port")
        if not 0 <= self.keepalive_seconds <= 65535:
            raise ValueError("keepalive must be 0..65535 seconds")
        lines = ["[Interface]"]
        if self.private_key is not None:
            lines.append(f"PrivateKey = {self.private_key}")
        lines.append(f"Address = {address}/32")
        dns = [str(ipaddress.ip_address(d.strip())) for d in self.dns]
        if dns:
            lines.append(f"DNS = {', '.join(dns)}")
        lines += [
            "",
            "[Peer]",
            f"PublicKey = {self.server_public_key}",
            f"AllowedIPs = {', '.join(_networks(self.allowed_ips))}",
            f"Endpoint = {self.endpoint}",
        ]
        if self.keepalive_seconds:
            lines.append(f"PersistentKeepalive = {self.keepalive_seconds}")
        return "\n".join(lines) + "\n"


def qr_png(text: str, scale: int = 5) -> bytes:
    """The QR code the WireGuard mobile app scans ("Create from QR code")."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_png_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")


@dataclass(frozen=True)
class ServerPeer:
    public_key: str
    address: str  # the device's pool address; the peer's AllowedIPs is that /32


# The [Interface] keys of ``wg showconf`` that the peer set must carry over: ``wg
# syncconf`` sets the whole configuration, so a file without them clears the
# interface's private key and port.
INTERFACE_KEYS = ("PrivateKey", "ListenPort", "FwMark")


def interface_section(showconf: str) -> list[str]:
    """The ``PrivateKey``/``ListenPort``/``FwMark`` lines of ``wg showconf`` output."""
    lines: list[str] = []
    in_interface = False
    for raw in showconf.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_interface = line == "[Interface]"
            continue
        key, sep, value = line.partition("=")
        if in_interface and sep and key.strip() in INTERFACE_KEYS:
            lines.append(f"{key.strip()} = {value.strip()}")
    return lines


def render_server_peers(peers: Iterable[ServerPeer], interface: Sequence[str] = ()) -> str:
    """The gateway's configuration for ``wg syncconf``: the interface's own lines
    (from ``interface_section``) and one ``[Peer]`` per device. ``syncconf`` removes
    every peer not listed and keeps the sessions of those that stay."""
    lines = ["[Interface]"]
    for line in interface:
        key = line.partition("=")[0].strip()
        if key not in INTERFACE_KEYS or "\n" in line or "\r" in line:
            raise ValueError(f"not an interface line: {key!r}")
        lines.append(line)
    for peer in sorted(peers, key=lambda p: ipaddress.IPv4Address(p.address)):
        if not is_valid_key(peer.public_key):
            raise ValueError("a peer's public key is not a WireGuard key")
        address = ipaddress.IPv4Address(peer.address)
        lines += ["", "[Peer]", f"PublicKey = {peer.public_key}", f"AllowedIPs = {address}/32"]
    return "\n".join(lines) + "\n"
