"""WireGuard keys: X25519 key pairs in the base64 form ``wg`` prints. Docs: docs/vpn.md.

Keys are made with ``cryptography`` (no ``wg genkey`` subprocess), so the API can
make a device's key pair when the device cannot; the private key then exists only
in the one response that carries it (docs/vpn.md#enrolling-a-phone).
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

KEY_BYTES = 32
# 32 bytes in standard base64: 43 characters and one "=" (what ``wg genkey`` prints).
_KEY_TEXT = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


class InvalidKey(ValueError):
    """A text that is not a WireGuard key."""


def is_valid_key(text: object) -> bool:
    """True when ``text`` is exactly a base64 WireGuard key (32 bytes, canonical form)."""
    return isinstance(text, str) and _KEY_TEXT.fullmatch(text) is not None


def decode_key(text: str) -> bytes:
    if not is_valid_key(text):
        raise InvalidKey("not a WireGuard key (44 base64 characters ending in '=')")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:  # unreachable after the pattern, kept as a guard
        raise InvalidKey(str(exc)) from None


def encode_key(raw: bytes) -> str:
    if len(raw) != KEY_BYTES:
        raise InvalidKey("a WireGuard key has 32 bytes")
    return base64.b64encode(raw).decode("ascii")


def generate_private_key() -> str:
    raw = X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return encode_key(raw)


def public_key_of(private_key: str) -> str:
    key = X25519PrivateKey.from_private_bytes(decode_key(private_key))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_key(raw)


def generate_key_pair() -> tuple[str, str]:
    """(private, public), both base64."""
    private = generate_private_key()
    return private, public_key_of(private)
