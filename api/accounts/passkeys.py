"""WebAuthn (passkeys) plumbing: single-use challenges in the cache, the options the
browser is given, and verification of what it sends back with py_webauthn.

Docs: docs/identity.md#passkeys-webauthn. No state change lives here (those are in
api/accounts/actions/passkeys.py); this module only issues challenges, builds options
and checks credentials. Every check that fails raises ``PasskeyRefused`` with a short
machine ``reason`` for the audit log, never a 500: the bytes come from the client.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from api.accounts.models import Passkey

CHALLENGE_SECONDS = 300
CACHE_PREFIX = "govdesk:webauthn:"
CHALLENGE_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
USER_HANDLE_BYTES = 32

PURPOSE_REGISTER = "register"
PURPOSE_LOGIN = "login"
PURPOSE_REAUTH = "reauth"  # re-confirming before deleting a passkey
PURPOSE_STEP_UP = "step_up"  # confirming one action on one task


class PasskeyRefused(Exception):
    """A WebAuthn check failed; ``reason`` goes to the audit log."""

    def __init__(self, reason: str, passkey: Passkey | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.passkey = passkey


@dataclass(frozen=True)
class Challenge:
    """What a challenge was issued for. Whoever redeems it must match every binding."""

    challenge: bytes
    purpose: str
    user_id: int | None = None
    session_id: str | None = None
    task_id: int | None = None
    action: str = ""
    user_handle: bytes | None = None


# --- Challenges -----------------------------------------------------------------------------


def issue_challenge(
    purpose: str,
    challenge: bytes,
    *,
    user_id: int | None = None,
    session_id: object = None,
    task_id: int | None = None,
    action: str = "",
    user_handle: bytes | None = None,
) -> str:
    """Store a challenge for five minutes under a random id; returns the id."""
    challenge_id = secrets.token_urlsafe(24)
    expires_at = timezone.now() + timedelta(seconds=CHALLENGE_SECONDS)
    cache.set(
        CACHE_PREFIX + challenge_id,
        {
            "challenge": bytes_to_base64url(challenge),
            "purpose": purpose,
            "user_id": user_id,
            "session_id": None if session_id is None else str(session_id),
            "task_id": task_id,
            "action": action,
            "user_handle": None if user_handle is None else bytes_to_base64url(user_handle),
            # Checked as well as the cache timeout: the cache may keep an entry a little
            # longer (and tests move the clock, which a Redis TTL ignores).
            "expires_at": expires_at.timestamp(),
        },
        CHALLENGE_SECONDS,
    )
    return challenge_id


def take_challenge(challenge_id: object) -> Challenge:
    """Redeem a challenge once. The cache entry is deleted and only the caller whose
    delete removed it wins (Redis DEL and the database cache's DELETE report whether
    they removed the row), so two requests racing with one challenge cannot both pass."""
    if not isinstance(challenge_id, str) or not CHALLENGE_ID.fullmatch(challenge_id):
        raise PasskeyRefused("challenge_unknown")
    key = CACHE_PREFIX + challenge_id
    stored = cache.get(key)
    if not isinstance(stored, dict) or not cache.delete(key):
        raise PasskeyRefused("challenge_unknown")
    if stored["expires_at"] <= timezone.now().timestamp():
        raise PasskeyRefused("challenge_expired")
    handle = stored.get("user_handle")
    return Challenge(
        challenge=base64url_to_bytes(stored["challenge"]),
        purpose=stored["purpose"],
        user_id=stored.get("user_id"),
        session_id=stored.get("session_id"),
        task_id=stored.get("task_id"),
        action=stored.get("action", ""),
        user_handle=None if handle is None else base64url_to_bytes(handle),
    )


def require_binding(challenge: Challenge, purpose: str, **expected: object) -> None:
    """The challenge was issued for this purpose, user, session, task and action."""
    if challenge.purpose != purpose:
        raise PasskeyRefused("challenge_purpose")
    for name, value in expected.items():
        wanted = None if value is None else (str(value) if name == "session_id" else value)
        if getattr(challenge, name) != wanted:
            raise PasskeyRefused(f"challenge_{name.removesuffix('_id')}")


# --- Options --------------------------------------------------------------------------------


def _as_json(options: Any) -> dict[str, Any]:
    """The standard JSON form (PublicKeyCredentialCreationOptionsJSON / …RequestOptionsJSON)."""
    return json.loads(options_to_json(options))


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for passkey in passkeys:
        transports = []
        for value in passkey.transports or []:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:  # a transport this library does not know: leave it out
                continue
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(passkey.credential_id), transports=transports or None
            )
        )
    return descriptors


def registration_options(
    *, user_name: str, display_name: str, user_handle: bytes, existing: list[Passkey]
) -> tuple[dict[str, Any], bytes]:
    """Options for navigator.credentials.create(): a discoverable credential (so the
    sign-in needs no username) with user verification required; the user's existing
    credentials are excluded so one authenticator is not registered twice."""
    options = generate_registration_options(
        rp_id=settings.GOVDESK_WEBAUTHN_RP_ID,
        rp_name=settings.GOVDESK_WEBAUTHN_RP_NAME,
        user_name=user_name,
        user_id=user_handle,
        user_display_name=display_name,
        timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    return _as_json(options), options.challenge


def authentication_options(allowed: list[Passkey]) -> tuple[dict[str, Any], bytes]:
    """Options for navigator.credentials.get() with user verification required.
    ``allowed`` empty: any discoverable credential of this RP (passkey sign-in)."""
    options = generate_authentication_options(
        rp_id=settings.GOVDESK_WEBAUTHN_RP_ID,
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _as_json(options), options.challenge


def new_user_handle() -> bytes:
    return secrets.token_bytes(USER_HANDLE_BYTES)


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: list[str]
    backup_eligible: bool
    backed_up: bool


def verify_registration(credential: dict[str, Any], challenge: bytes) -> NewCredential:
    """Check an attestation (RegistrationResponseJSON) against the challenge, the RP ID
    and the allowed origins, with user verification required. Attestation statements
    are not required ("none" is accepted): GovDesk trusts the person who is signed in
    to choose their authenticator, not a vendor list."""
    try:
        parsed: RegistrationCredential = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.GOVDESK_WEBAUTHN_RP_ID,
            expected_origin=list(settings.GOVDESK_WEBAUTHN_ORIGINS),
            require_user_verification=True,
        )
    except Exception as exc:  # client bytes: any parse or verify error is a refusal
        raise PasskeyRefused("registration_invalid") from exc
    transports = [str(getattr(t, "value", t)) for t in (parsed.response.transports or [])]
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=transports[:10],
        backup_eligible=verified.credential_device_type == "multi_device",
        backed_up=verified.credential_backed_up,
    )


def parse_assertion(credential: object) -> AuthenticationCredential:
    """Parse AuthenticationResponseJSON (``credential.toJSON()`` of navigator.credentials.get)."""
    if not isinstance(credential, dict):
        raise PasskeyRefused("assertion_malformed")
    try:
        return parse_authentication_credential_json(credential)
    except Exception as exc:  # client bytes: never a 500
        raise PasskeyRefused("assertion_malformed") from exc


@dataclass(frozen=True)
class VerifiedAssertion:
    sign_count: int
    backed_up: bool


def verify_assertion(
    parsed: AuthenticationCredential, challenge: bytes, passkey: Passkey
) -> VerifiedAssertion:
    """Check an assertion by ``passkey``: challenge, origin, RP ID hash, user presence
    and verification (UV flag), and the signature with the stored public key.

    The signature is verified first with the counter check switched off, then the
    counter is checked here: a correctly signed assertion whose counter did not move
    forward (when either side counts) means a second copy of the private key exists —
    a cloned authenticator — which is refused with its own reason (audited as such)."""
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.GOVDESK_WEBAUTHN_RP_ID,
            expected_origin=list(settings.GOVDESK_WEBAUTHN_ORIGINS),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception as exc:  # client bytes: never a 500
        raise PasskeyRefused("assertion_invalid", passkey) from exc
    stored = passkey.sign_count
    if (verified.new_sign_count > 0 or stored > 0) and verified.new_sign_count <= stored:
        raise PasskeyRefused("sign_count_regression", passkey)
    return VerifiedAssertion(
        sign_count=verified.new_sign_count, backed_up=verified.credential_backed_up
    )


def credential_id_of(parsed: AuthenticationCredential) -> str:
    return bytes_to_base64url(parsed.raw_id)
