"""A software WebAuthn authenticator for the passkey tests (docs/identity.md#passkeys-webauthn).

It does what a phone's platform authenticator does, byte for byte, so the server's
real py_webauthn verification is what is tested: an EC P-256 key (``cryptography``),
a "none" attestation object in CBOR (``cbor2``) with authenticatorData (rpIdHash,
flags, counter, attested credential data with a COSE_Key), clientDataJSON, and ES256
signatures over authenticatorData ‖ SHA-256(clientDataJSON). Its answers are the
browser's JSON forms (RegistrationResponseJSON / AuthenticationResponseJSON).

Knobs let a test produce what a broken or hostile client would: another origin or RP
ID, no user verification, a counter of its choosing, another credential's key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One credential on one authenticator (create it, then sign with it)."""

    def __init__(self, *, backup_eligible: bool = False) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.aaguid = bytes(range(16))
        self.sign_count = 0
        self.user_handle = b""
        self.backup_eligible = backup_eligible

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _flags(self, uv: bool, attested: bool) -> int:
        flags = FLAG_UP | (FLAG_UV if uv else 0)
        if self.backup_eligible:
            flags |= FLAG_BE | FLAG_BS
        return flags | (FLAG_AT if attested else 0)

    def auth_data(self, rp_id: str, *, uv: bool, counter: int, attested: bool = False) -> bytes:
        data = hashlib.sha256(rp_id.encode()).digest()
        data += bytes([self._flags(uv, attested)]) + struct.pack(">I", counter)
        if attested:
            data += self.aaguid + struct.pack(">H", len(self.credential_id))
            data += self.credential_id + self.cose_key()
        return data

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        uv: bool = True,
    ) -> dict[str, Any]:
        """navigator.credentials.create(options) → credential.toJSON()."""
        rp = rp_id or options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self.client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps(
            {
                "fmt": "none",
                "attStmt": {},
                "authData": self.auth_data(rp, uv=uv, counter=self.sign_count, attested=True),
            }
        )
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        uv: bool = True,
        counter: int | None = None,
        signer: SoftAuthenticator | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get(options) → credential.toJSON(). The counter moves
        forward by one unless ``counter`` is given; ``signer`` signs with another key
        (a forged assertion for this credential id)."""
        if counter is None:
            self.sign_count += 1
            counter = self.sign_count
        rp = rp_id or options.get("rpId") or RP_ID
        auth_data = self.auth_data(rp, uv=uv, counter=counter)
        client_data = self.client_data("webauthn.get", options["challenge"], origin)
        key = (signer or self).key
        signature = key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle) if self.user_handle else None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
