"""The approved peer list the API serves to the gateway agent: its format, the
server's signing and the agent's validation of the whole list. Docs: docs/vpn.md#the-peer-list.

A list is a JSON object::

    {"format": "govdesk-vpn-peers/1", "version": 42, "generated_at": "2026-…Z",
     "pool": "10.99.0.0/16", "gateway": "10.99.0.1",
     "peers": [{"id": 7, "public_key": "…=", "address": "10.99.0.2"}, …],
     "sha256": "<hex>", "signature": "<hex>"}

``sha256`` is the digest of the canonical JSON of every other field (sorted keys,
no spaces, ASCII), so a truncated or altered body never validates; ``signature`` is
HMAC-SHA256 of the same bytes keyed with SHA-256 of the agent's credential (the API
keeps only that hash, docs/vpn.md#the-agent-credential), so only the API can make a
list this agent accepts. ``version`` rises with every approval, revocation and key
change; the agent refuses a list older than the one it applied.

``PeerList.peers_sha256`` is a second digest, of what the gateway applies only (pool,
gateway address and the sorted (key, address) pairs; not ``version``, not
``generated_at``): two lists generated at different times for the same peers have the
same one, so the agent re-applies and logs "applied" only when the peers changed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from vpn_gateway.config import ServerPeer
from vpn_gateway.keys import is_valid_key
from vpn_gateway.pool import AddressPool

FORMAT = "govdesk-vpn-peers/1"
MAX_PEERS = 65_536
MAX_BODY_BYTES = 16 * 1_048_576
_FIELDS = {"format", "version", "generated_at", "pool", "gateway", "peers", "sha256", "signature"}
_PEER_FIELDS = {"id", "public_key", "address"}


class InvalidPeerList(ValueError):
    """The list (or the body that should have held it) cannot be applied."""


def canonical(payload: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in payload.items() if k not in ("sha256", "signature")}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def signing_key(credential_sha256_hex: str) -> bytes:
    return bytes.fromhex(credential_sha256_hex)


def credential_hash(credential: str) -> str:
    """How the API stores an agent credential (and the agent derives its list key)."""
    return hashlib.sha256(credential.encode()).hexdigest()


def sign(payload: dict[str, Any], credential_sha256_hex: str) -> dict[str, Any]:
    """``payload`` with ``sha256`` and ``signature`` added (the API side)."""
    body = canonical(payload)
    signature = hmac.new(signing_key(credential_sha256_hex), body, hashlib.sha256).hexdigest()
    return {**payload, "sha256": hashlib.sha256(body).hexdigest(), "signature": signature}


def peers_digest(pool: AddressPool, peers: tuple[ServerPeer, ...] | list[ServerPeer]) -> str:
    """SHA-256 of the peer set as the gateway applies it: independent of the list's
    version, its generation time, the device ids and the order of the peers."""
    content = {
        "pool": str(pool.network),
        "gateway": str(pool.gateway),
        "peers": sorted([peer.public_key, peer.address] for peer in peers),
    }
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class PeerList:
    version: int
    pool: AddressPool
    peers: tuple[ServerPeer, ...]
    sha256: str
    raw: dict[str, Any]

    @property
    def peers_sha256(self) -> str:
        """The digest of what is applied (``peers_digest``), not of the whole list."""
        return peers_digest(self.pool, self.peers)


def _fail(why: str) -> InvalidPeerList:
    return InvalidPeerList(why)


def parse(body: bytes, credential: str) -> PeerList:
    """Validates the whole list; raises InvalidPeerList on the first problem.

    Nothing is applied from a list that fails any check: a truncated body is not
    JSON, a body cut at a peer boundary fails the digest, a list from anyone who does
    not hold the credential's hash fails the signature."""
    if len(body) > MAX_BODY_BYTES:
        raise _fail("body too large")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _fail("body is not JSON (truncated?)") from None
    if not isinstance(document, dict) or set(document) != _FIELDS:
        raise _fail("not a peer list: unexpected or missing fields")
    if document["format"] != FORMAT:
        raise _fail(f"unknown format {str(document['format'])[:40]!r}")
    digest = hashlib.sha256(canonical(document)).hexdigest()
    if not isinstance(document["sha256"], str) or not hmac.compare_digest(
        digest, document["sha256"]
    ):
        raise _fail("sha256 does not match the body")
    expected = hmac.new(
        signing_key(credential_hash(credential)), canonical(document), hashlib.sha256
    ).hexdigest()
    if not isinstance(document["signature"], str) or not hmac.compare_digest(
        expected, document["signature"]
    ):
        raise _fail("signature does not match (wrong credential, or not from the API)")
    version = document["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise _fail("version must be a non-negative integer")
    try:
        pool = AddressPool.parse(str(document["pool"]), str(document["gateway"]))
    except ValueError as exc:
        raise _fail(f"pool: {exc}") from None
    peers = document["peers"]
    if not isinstance(peers, list) or len(peers) > MAX_PEERS:
        raise _fail("peers must be a list of at most 65536 entries")
    seen_keys: set[str] = set()
    seen_addresses: set[ipaddress.IPv4Address] = set()
    parsed: list[ServerPeer] = []
    for index, peer in enumerate(peers):
        if not isinstance(peer, dict) or set(peer) != _PEER_FIELDS:
            raise _fail(f"peer {index}: unexpected or missing fields")
        key, address = peer["public_key"], peer["address"]
        if not is_valid_key(key):
            raise _fail(f"peer {index}: public key is not a WireGuard key")
        if not isinstance(address, str) or not pool.is_assignable(address):
            raise _fail(f"peer {index}: address is not an assignable address of the pool")
        ip = ipaddress.IPv4Address(address)
        if key in seen_keys:
            raise _fail(f"peer {index}: duplicate public key")
        if ip in seen_addresses:
            raise _fail(f"peer {index}: duplicate address")
        seen_keys.add(key)
        seen_addresses.add(ip)
        parsed.append(ServerPeer(public_key=key, address=str(ip)))
    return PeerList(version=version, pool=pool, peers=tuple(parsed), sha256=digest, raw=document)
