"""Passkey actions: register, list, delete, sign in with a passkey, and the assertion
check that the workflow's step-up (api/workflow/step_up.py) confirms an approval with.

Docs: docs/identity.md#passkeys-webauthn and docs/workflow.md#step-up-with-a-passkey.
Every state change is atomic and audited; refused attempts are audited too (after any
rollback, so the refusal cannot undo its own record). WebAuthn checks live in
api/accounts/passkeys.py; the lockout, failure counting and session opening are the
password login's own (api/accounts/actions/identity.py), so a passkey sign-in obeys
the same backoff and gets the same kind of device session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.accounts import passkeys as webauthn
from api.accounts import throttling
from api.accounts.actions.identity import (
    USER_TYPE,
    ClientInfo,
    LoginResult,
    _count_failure,
    _record_refusal,
    _refuse_if_locked,
    _require_current_password,
    start_signed_in_session,
)
from api.accounts.models import Passkey, User, UserSession
from api.accounts.passwords import password_expired
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, NotFound

PASSKEY_TYPE = "accounts.passkey"
# Bounds allowCredentials/excludeCredentials and the list; a person has a phone, a
# desktop key and a spare or two — twenty is generous.
MAX_PASSKEYS_PER_USER = 20
DEFAULT_NAME = "通行密钥"


def _session_id(session: UserSession | None) -> str | None:
    return None if session is None else str(session.pk)


def _refused(action: str, actor: User, reason: str, **detail: Any) -> None:
    """A refused passkey operation of a signed-in user, in its own transaction."""
    record_denied(
        action,
        actor=actor,
        object_type=USER_TYPE,
        object_id=actor.pk,
        detail={"reason": reason, **detail},
    )


def _record_clone(passkey: Passkey, actor_username: str) -> None:
    """A correctly signed assertion whose counter went backwards: a second copy of the
    private key is in use somewhere (a cloned authenticator)."""
    record_denied(
        "passkey.clone_suspected",
        actor=passkey.user,
        actor_username=actor_username,
        obj=passkey,
        detail={"passkey_id": passkey.pk, "stored_sign_count": passkey.sign_count},
    )


# --- Registration ---------------------------------------------------------------------------


def _user_handle(user: User) -> bytes:
    """The WebAuthn user.id: the one of the user's passkeys if any (an authenticator
    keeps one discoverable credential per RP and user.id), else a new random one."""
    handle = (
        Passkey.objects.filter(user=user)
        .order_by("created_at")
        .values_list("user_handle", flat=True)
        .first()
    )
    return bytes(handle) if handle else webauthn.new_user_handle()


def registration_options(user: User, session: UserSession | None) -> tuple[dict[str, Any], str]:
    existing = list(Passkey.objects.filter(user=user).only("credential_id", "transports"))
    if len(existing) >= MAX_PASSKEYS_PER_USER:
        raise Conflict("passkey_limit_reached")
    handle = _user_handle(user)
    options, challenge = webauthn.registration_options(
        user_name=user.username,
        display_name=user.display_name or user.username,
        user_handle=handle,
        existing=existing,
    )
    challenge_id = webauthn.issue_challenge(
        webauthn.PURPOSE_REGISTER,
        challenge,
        user_id=user.pk,
        session_id=_session_id(session),
        user_handle=handle,
    )
    return options, challenge_id


def register(
    user: User,
    session: UserSession | None,
    *,
    challenge_id: str,
    credential: dict[str, Any],
    name: str,
) -> Passkey:
    """Verify the attestation against the challenge this user's session was given and
    store the credential's public key."""
    try:
        challenge = webauthn.take_challenge(challenge_id)
        webauthn.require_binding(
            challenge, webauthn.PURPOSE_REGISTER, user_id=user.pk, session_id=_session_id(session)
        )
        new = webauthn.verify_registration(credential, challenge.challenge)
    except webauthn.PasskeyRefused as refused:
        _refused("passkey.register_failed", user, refused.reason)
        raise ApiError("passkey_registration_failed") from None
    assert challenge.user_handle is not None  # issued with one by registration_options
    try:
        with transaction.atomic():
            # The user row serialises registrations of one user: the limit holds.
            User.objects.select_for_update().filter(pk=user.pk).first()
            if Passkey.objects.filter(user=user).count() >= MAX_PASSKEYS_PER_USER:
                raise Conflict("passkey_limit_reached")
            passkey = Passkey.objects.create(
                user=user,
                credential_id=new.credential_id,
                public_key=new.public_key,
                sign_count=new.sign_count,
                transports=new.transports,
                aaguid=new.aaguid,
                user_handle=challenge.user_handle,
                backup_eligible=new.backup_eligible,
                backed_up=new.backed_up,
                name=name.strip() or DEFAULT_NAME,
            )
            record(
                "passkey.registered",
                actor=user,
                obj=passkey,
                unit_id=user.unit_id,
                detail={
                    "passkey_id": passkey.pk,
                    "name": passkey.name,
                    "aaguid": passkey.aaguid,
                    "backup_eligible": passkey.backup_eligible,
                },
            )
    except IntegrityError:
        # The credential id is unique: this authenticator is registered already
        # (to this user, or — never by design — to someone else).
        _refused("passkey.register_failed", user, "duplicate_credential")
        raise Conflict("passkey_already_registered") from None
    return passkey


# --- Re-confirmation and deletion -----------------------------------------------------------


def _allowed_passkeys(user: User) -> list[Passkey]:
    return list(
        Passkey.objects.filter(user=user).only("credential_id", "transports")[
            :MAX_PASSKEYS_PER_USER
        ]
    )


def reauth_options(user: User, session: UserSession | None) -> tuple[dict[str, Any], str]:
    """Options for confirming with a passkey before deleting one (instead of the password)."""
    allowed = _allowed_passkeys(user)
    if not allowed:
        raise Conflict("no_passkey")
    options, challenge = webauthn.authentication_options(allowed)
    challenge_id = webauthn.issue_challenge(
        webauthn.PURPOSE_REAUTH, challenge, user_id=user.pk, session_id=_session_id(session)
    )
    return options, challenge_id


def _verify_own_assertion(
    user: User, parsed: Any, challenge: webauthn.Challenge
) -> tuple[Passkey, webauthn.VerifiedAssertion]:
    """The assertion is by one of ``user``'s passkeys and verifies."""
    passkey = (
        Passkey.objects.select_related("user")
        .filter(credential_id=webauthn.credential_id_of(parsed), user=user)
        .first()
    )
    if passkey is None:
        raise webauthn.PasskeyRefused("credential_not_owned")
    return passkey, webauthn.verify_assertion(parsed, challenge.challenge, passkey)


def _mark_used(passkey: Passkey, verified: webauthn.VerifiedAssertion) -> None:
    """Store the new counter. Compare-and-set: of two assertions racing with the same
    counter value only one moves it, so the other cannot pass too."""
    moved = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.sign_count, backed_up=verified.backed_up, last_used_at=timezone.now()
    )
    if not moved:
        raise webauthn.PasskeyRefused("sign_count_race", passkey)
    passkey.sign_count = verified.sign_count


def delete(
    user: User,
    session: UserSession | None,
    passkey_id: int,
    *,
    password: str = "",
    assertion: dict[str, Any] | None = None,
    client: ClientInfo,
) -> None:
    """Delete one of the user's passkeys, confirmed by the current password (a wrong
    one counts towards lockout, like any password check) or by a fresh assertion of
    any of the user's passkeys. Another user's passkey is a 404 (recorded)."""
    owner = Passkey.objects.filter(pk=passkey_id).values_list("user_id", flat=True).first()
    if owner != user.pk:
        if owner is not None:
            record_denied(
                "passkey.delete", actor=user, object_type=PASSKEY_TYPE, object_id=passkey_id
            )
        raise NotFound()
    if assertion is not None:
        try:
            challenge = webauthn.take_challenge(assertion.get("challenge_id"))
            webauthn.require_binding(
                challenge, webauthn.PURPOSE_REAUTH, user_id=user.pk, session_id=_session_id(session)
            )
            parsed = webauthn.parse_assertion(assertion.get("credential"))
            used, verified = _verify_own_assertion(user, parsed, challenge)
            _mark_used(used, verified)
        except webauthn.PasskeyRefused as refused:
            if refused.reason == "sign_count_regression" and refused.passkey is not None:
                _record_clone(refused.passkey, user.username)
            _refused("passkey.delete_failed", user, refused.reason, passkey_id=passkey_id)
            raise ApiError("passkey_invalid") from None
        confirmed_by = "passkey"
    elif password:
        _require_current_password(user, password, client, "passkey.delete_failed")
        confirmed_by = "password"
    else:
        raise ApiError("reauthentication_required")
    with transaction.atomic():
        passkey = Passkey.objects.select_for_update().filter(pk=passkey_id, user=user).first()
        if passkey is None:  # deleted meanwhile (a double tap): the same answer
            return
        record(
            "passkey.deleted",
            actor=user,
            obj=passkey,
            unit_id=user.unit_id,
            detail={"passkey_id": passkey.pk, "name": passkey.name, "confirmed_by": confirmed_by},
        )
        passkey.delete()


# --- Sign-in with a passkey -----------------------------------------------------------------


def login_options() -> tuple[dict[str, Any], str]:
    """Options for a username-less sign-in: any discoverable credential of this RP."""
    options, challenge = webauthn.authentication_options([])
    return options, webauthn.issue_challenge(webauthn.PURPOSE_LOGIN, challenge)


def _address_keys(client: ClientInfo) -> list[throttling.LoginKey]:
    return [k for k in throttling.login_keys("", client.address) if k.kind == "address"]


def login(
    *, challenge_id: str, credential: dict[str, Any], device_name: str = "", client: ClientInfo
) -> LoginResult:
    """Sign in with a passkey: the same lockout, the same device session and the same
    answer as the password login.

    The username is not known until the credential is found, so the source address
    is checked (and charged) first; once the credential names its user, that
    username's lock applies and its counter is charged too. A passkey assertion with
    user verification is two factors in one gesture (the device holding the key, and
    the fingerprint/face/PIN that unlocks it) and cannot be phished for another site,
    so it satisfies a role's TOTP requirement: the session is opened MFA-satisfied.
    """
    address_keys = _address_keys(client)
    _refuse_if_locked(address_keys, "", "auth.login_failed")

    def fail(keys: list[throttling.LoginKey], user: User | None, reason: str) -> NoReturn:
        _count_failure(
            keys,
            action="auth.login_failed",
            username=user.username if user is not None else "",
            user=user,
            reason=f"passkey_{reason}",
            error=ApiError("passkey_invalid", status_code=401),
        )
        raise AssertionError("unreachable")  # _count_failure always raises

    try:
        challenge = webauthn.take_challenge(challenge_id)
        webauthn.require_binding(challenge, webauthn.PURPOSE_LOGIN)
        parsed = webauthn.parse_assertion(credential)
    except webauthn.PasskeyRefused as refused:
        fail(address_keys, None, refused.reason)
    passkey = (
        Passkey.objects.select_related("user", "user__unit")
        .filter(credential_id=webauthn.credential_id_of(parsed))
        .first()
    )
    if passkey is None:
        fail(address_keys, None, "credential_unknown")
    user = passkey.user
    keys = throttling.login_keys(user.username, client.address)
    _refuse_if_locked(keys, user.username, "auth.login_failed")
    handle = parsed.response.user_handle
    try:
        if not user.is_active:
            raise webauthn.PasskeyRefused("user_inactive", passkey)
        if handle is not None and bytes(handle) != bytes(passkey.user_handle):
            raise webauthn.PasskeyRefused("user_handle_mismatch", passkey)
        verified = webauthn.verify_assertion(parsed, challenge.challenge, passkey)
    except webauthn.PasskeyRefused as refused:
        if refused.reason == "sign_count_regression":
            _record_clone(passkey, user.username)
        fail(keys, user, refused.reason)
    if password_expired(user):
        _record_refusal("auth.login_failed", user, "password_expired")
        raise ApiError("password_expired", status_code=403)
    try:
        with transaction.atomic():
            _mark_used(passkey, verified)
            pair = start_signed_in_session(
                user,
                throttle_username=user.username,
                device_name=device_name,
                client=client,
                mfa_satisfied=True,
                detail={
                    "method": "passkey",
                    "passkey_id": passkey.pk,
                    "second_factor": True,
                    "mfa_setup_required": False,
                },
            )
    except webauthn.PasskeyRefused as refused:
        # Another sign-in with the same counter value won the compare-and-set
        # (_mark_used): a refusal like any other, counted and recorded once the
        # block has rolled back, so the record is not undone with it.
        fail(keys, user, refused.reason)
    return LoginResult(user=user, pair=pair, mfa_setup_required=False)


# --- Confirming one action with a passkey (used by api/workflow/step_up.py) -----------------


class AssertionRefused(Exception):
    """A passkey confirmation did not verify; ``reason`` goes to the audit log."""

    def __init__(self, reason: str, passkey: Passkey | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.passkey = passkey

    def record(self, actor_username: str) -> None:
        """Record what the refusal says about the passkey itself (after the caller's
        rollback): ``passkey.clone_suspected`` when its counter went backwards."""
        if self.reason == "sign_count_regression" and self.passkey is not None:
            _record_clone(self.passkey, actor_username)


def assertion_options(
    user: User, session: UserSession | None, *, task_id: int, action: str
) -> tuple[dict[str, Any], str]:
    """A challenge for confirming ``action`` on ``task_id`` with one of ``user``'s
    passkeys, bound to this user, session, task and action (5 minutes, once)."""
    allowed = _allowed_passkeys(user)
    if not allowed:
        raise Conflict("no_passkey")
    options, challenge = webauthn.authentication_options(allowed)
    challenge_id = webauthn.issue_challenge(
        webauthn.PURPOSE_STEP_UP,
        challenge,
        user_id=user.pk,
        session_id=_session_id(session),
        task_id=task_id,
        action=action,
    )
    return options, challenge_id


def verify_assertion(
    user: User, session: UserSession | None, assertion: dict[str, Any], *, action: str
) -> Callable[[int], None]:
    """Redeem the assertion's challenge now and return the check of the rest, for the
    caller to run where a refusal belongs (inside its transaction, after its own
    refusals). The check takes the task id: the challenge must be this user's, this
    session's, for this task and this action, and the assertion must verify with user
    verification by one of the user's passkeys, whose counter it moves. It raises
    ``AssertionRefused``.

    The challenge is redeemed here, before the caller's transaction: with the database
    cache the redemption would otherwise roll back with a refused action and the same
    challenge could be tried again (Redis would not roll it back)."""
    redeemed: webauthn.Challenge | webauthn.PasskeyRefused
    try:
        redeemed = webauthn.take_challenge(assertion.get("challenge_id"))
    except webauthn.PasskeyRefused as refused:
        redeemed = refused

    def check(task_id: int) -> None:
        try:
            if isinstance(redeemed, webauthn.PasskeyRefused):
                raise redeemed
            webauthn.require_binding(
                redeemed,
                webauthn.PURPOSE_STEP_UP,
                user_id=user.pk,
                session_id=_session_id(session),
                task_id=task_id,
                action=action,
            )
            parsed = webauthn.parse_assertion(assertion.get("credential"))
            passkey, verified = _verify_own_assertion(user, parsed, redeemed)
            _mark_used(passkey, verified)
        except webauthn.PasskeyRefused as refused:
            raise AssertionRefused(refused.reason, refused.passkey) from None

    return check
