"""Identity actions: login, token refresh and verify, logout, password change, device
sessions and the TOTP second factor.

Docs: docs/identity.md. Every state change is atomic and writes its audit event in
the same transaction. Failed attempts commit their failure count and audit event
first and raise afterwards, so the refusal cannot roll them back. Passwords, tokens,
TOTP secrets and codes never reach the audit log or a log line.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password as check_hashed_password
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.utils import datetime_from_epoch

from api.accounts import throttling
from api.accounts.authentication import password_stamp
from api.accounts.models import User, UserSession
from api.accounts.passwords import new_password_errors, password_expired
from api.accounts.roles import is_city_it_admin, roles_of
from api.accounts.signals import login_ceiling_reached
from api.accounts.token_types import CappedRefreshToken, CappedUntypedToken
from api.accounts.tokens import (
    TokenPair,
    blacklist_jtis,
    is_blacklisted,
    issue_tokens,
    open_session,
    parse_session_id,
)
from api.audit.models import AuditResult
from api.audit.recorder import record, record_denied
from api.common.context import current_source_address
from api.common.errors import ApiError, Conflict, Forbidden, NotFound

USER_TYPE = "accounts.user"
SESSION_TYPE = "accounts.usersession"


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from (the zone policy's decided address)."""

    address: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class LoginResult:
    user: User
    pair: TokenPair
    mfa_setup_required: bool


@dataclass(frozen=True)
class PasswordChanged:
    user: User
    sessions_revoked: int
    pair: TokenPair | None = None  # the signed-in flow's new pair for this device


class AccountLocked(ApiError):
    status_code = 429
    default_code = "account_locked"

    def __init__(self, retry_after: int) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(extra={"retry_after": retry_after})


def token_invalid() -> ApiError:
    return ApiError("token_invalid", status_code=401)


# --- TOTP -------------------------------------------------------------------------------


def totp_required(user: User) -> bool:
    """The user holds a role listed in GOVDESK_TOTP_REQUIRED_ROLES (read from the DB)."""
    return bool(roles_of(user) & set(settings.GOVDESK_TOTP_REQUIRED_ROLES))


def _match_totp(secret: str, code: str, now: datetime) -> int | None:
    """The time-step counter ``code`` is valid for (±1 step of clock drift), or None."""
    if not secret or not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for counter in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _consume_totp(user: User, code: str) -> bool:
    """True when ``code`` is valid and not used before; marks it used (compare-and-set
    on ``totp_last_counter``, so a replayed or concurrently reused code fails)."""
    counter = _match_totp(user.totp_secret, code, timezone.now())
    if counter is None:
        return False
    claimed = User.objects.filter(pk=user.pk, totp_last_counter__lt=counter).update(
        totp_last_counter=counter
    )
    if claimed:
        user.totp_last_counter = counter
    return claimed == 1


# --- Credentials and failure counting -----------------------------------------------------


def _burn_hash(password: str) -> None:
    """Spend the time of a real password check when there is no user to check."""
    User().set_password(password)


def _find_user(username: str) -> User | None:
    return User.objects.select_related("unit").filter(username=username).first()


def _verify_password(user: User | None, password: str, *, upgrade: bool) -> bool:
    """The password check, with the same cost whether or not the user exists."""
    if user is None or not user.is_active or not user.has_usable_password():
        _burn_hash(password)
        return False
    if upgrade:
        # Rehashes with the current hasher profile when it changed (must_update).
        return user.check_password(password)
    return check_hashed_password(password, user.password)


def _address_of(keys: list[throttling.LoginKey]) -> str | None:
    for login_key in keys:
        if login_key.kind == "address":
            return login_key.key.split(":", 1)[1]
    return None


def _refuse_if_locked(keys: list[throttling.LoginKey], username: str, action: str) -> None:
    known = throttling.is_known_address(username, _address_of(keys))
    remaining = throttling.locked_for(keys, known_address=known)
    if remaining:
        record(
            action,
            actor_username=username,
            object_type=USER_TYPE,
            result=AuditResult.DENIED,
            detail={"reason": "locked"},
        )
        raise AccountLocked(remaining)


def _require_current_password(
    user: User, password: str, client: ClientInfo, action: str
) -> list[throttling.LoginKey]:
    """A signed-in user re-entering their password: a lock refuses at once, a wrong
    password counts as a login failure (``password_incorrect``). Returns the keys."""
    keys = throttling.login_keys(user.username, client.address)
    _refuse_if_locked(keys, user.username, action)
    if not _verify_password(user, password, upgrade=False):
        _count_failure(
            keys,
            action=action,
            username=user.username,
            user=user,
            reason="bad_password",
            error=ApiError("password_incorrect"),
        )
    return keys


def _count_failure(
    keys: list[throttling.LoginKey],
    *,
    action: str,
    username: str,
    user: User | None,
    reason: str,
    error: ApiError,
) -> None:
    """Commit one failure (counter + audit) and raise ``error``, or ``account_locked``
    when this failure started a lockout."""
    with transaction.atomic():
        lockouts = throttling.register_failure(keys)
        target = {"obj": user} if user is not None else {"object_type": USER_TYPE}
        record(
            action,
            actor_username=username,
            result=AuditResult.FAILED,
            detail={"reason": reason},
            **target,
        )
        for lockout in lockouts:
            if lockout.kind == "account":
                # Many failures from many addresses: slow down, alert, never lock out.
                record(
                    "auth.account_ceiling",
                    actor_username=username,
                    result=AuditResult.DENIED,
                    detail={"failures": lockout.failures, "delay_seconds": lockout.seconds},
                    **target,
                )
                transaction.on_commit(
                    functools.partial(
                        login_ceiling_reached.send_robust,
                        sender=User,
                        username=username,
                        failures=lockout.failures,
                    )
                )
                continue
            record(
                "auth.locked",
                actor_username=username,
                result=AuditResult.DENIED,
                detail={
                    "key": lockout.kind,
                    "seconds": lockout.seconds,
                    "failures": lockout.failures,
                },
                **target,
            )
    locks = [lockout for lockout in lockouts if lockout.kind != "account"]
    if locks:
        raise AccountLocked(max(lockout.seconds for lockout in locks))
    raise error


def _record_refusal(action: str, user: User, reason: str) -> None:
    """A refusal after the password was verified (not counted as a failure)."""
    record(
        action,
        actor_username=user.username,
        obj=user,
        result=AuditResult.FAILED,
        detail={"reason": reason},
    )


def _check_second_factor(
    user: User, otp: str, keys: list[throttling.LoginKey], action: str
) -> None:
    if not user.has_totp:
        return
    if not otp:
        _record_refusal(action, user, "otp_required")
        raise ApiError("otp_required", status_code=401)
    if not _consume_totp(user, otp):
        _count_failure(
            keys,
            action=action,
            username=user.username,
            user=user,
            reason="otp_invalid",
            error=ApiError("otp_invalid", status_code=401),
        )


# --- Step-up (seal, passkey confirmation, any future one) ---------------------------------


def refuse_step_up_if_locked(user: User, action: str) -> None:
    """429 ``account_locked`` when the user's failures from this address (login or
    step-up: one counter) locked it. Call before the step-up's transaction."""
    keys = throttling.login_keys(user.username, current_source_address())
    _refuse_if_locked(keys, user.username, action)


def count_step_up_failure(user: User, *, action: str, reason: str, error: ApiError) -> NoReturn:
    """A wrong step-up code or assertion counts exactly like a wrong password (same
    keys, same lockout, audited as ``action`` with ``reason``); raises ``error`` or
    429 ``account_locked`` when this failure locked the account at this address.
    Call it after the step-up's transaction rolled back (it commits on its own)."""
    keys = throttling.login_keys(user.username, current_source_address())
    _count_failure(
        keys, action=action, username=user.username, user=user, reason=reason, error=error
    )
    raise AssertionError("unreachable")  # pragma: no cover - _count_failure raises


def verify_step_up_totp(user: User, code: str, *, action: str) -> None:
    """A TOTP step-up outside any transaction: refused when locked, the code consumed,
    a wrong code counted (400 ``otp_invalid``)."""
    refuse_step_up_if_locked(user, action)
    if not _consume_totp(user, code):
        count_step_up_failure(
            user, action=action, reason="otp_invalid", error=ApiError("otp_invalid")
        )


def admin_unlock(actor: User, username: str) -> int:
    """A city IT admin clears every failure counter of an account (all addresses);
    audited ``auth.unlocked``. Returns the rows removed."""
    if not is_city_it_admin(actor):
        record_denied(
            "auth.unlock", actor=actor, object_type=USER_TYPE, detail={"username": username[:150]}
        )
        raise Forbidden()
    with transaction.atomic():
        removed = throttling.unlock_account(username)
        target = User.objects.filter(username=username).first()
        record(
            "auth.unlocked",
            actor=actor,
            **({"obj": target} if target is not None else {"object_type": USER_TYPE}),
            detail={"username": username[:150], "rows": removed},
        )
    return removed


# --- Login, refresh, verify, logout ------------------------------------------------------


def login(
    *, username: str, password: str, otp: str = "", device_name: str = "", client: ClientInfo
) -> LoginResult:
    """Verify credentials (and the second factor) and open a device session.

    Unknown user, inactive user and wrong password all answer ``invalid_credentials``
    after the same hashing work; lockout is decided before the password is looked at.
    """
    keys = throttling.login_keys(username, client.address)
    _refuse_if_locked(keys, username, "auth.login_failed")
    user = _find_user(username)
    if not _verify_password(user, password, upgrade=True):
        _count_failure(
            keys,
            action="auth.login_failed",
            username=username,
            user=user,
            reason="bad_credentials",
            error=ApiError("invalid_credentials", status_code=401),
        )
    assert user is not None  # _verify_password is False for a missing user
    if password_expired(user):
        _record_refusal("auth.login_failed", user, "password_expired")
        raise ApiError("password_expired", status_code=403)
    _check_second_factor(user, otp, keys, "auth.login_failed")
    mfa_pending = not user.has_totp and totp_required(user)
    with transaction.atomic():
        pair = start_signed_in_session(
            user,
            throttle_username=username,
            device_name=device_name,
            client=client,
            mfa_satisfied=not mfa_pending,
            detail={"second_factor": user.has_totp, "mfa_setup_required": mfa_pending},
        )
    return LoginResult(user=user, pair=pair, mfa_setup_required=mfa_pending)


def start_signed_in_session(
    user: User,
    *,
    throttle_username: str,
    device_name: str,
    client: ClientInfo,
    mfa_satisfied: bool,
    detail: dict[str, Any],
) -> TokenPair:
    """The common end of every sign-in (password or passkey), inside the caller's
    transaction: clear the failure counter, open the device session, issue its token
    pair, stamp last_login and record ``auth.login`` (``detail`` says how)."""
    throttling.reset_username(throttle_username, client.address)
    session = open_session(
        user,
        device_name=device_name,
        user_agent=client.user_agent,
        ip_address=client.address,
        mfa_satisfied=mfa_satisfied,
    )
    pair = issue_tokens(user, session)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    record(
        "auth.login",
        actor=user,
        obj=session,
        unit_id=user.unit_id,
        detail={"device_name": session.device_name, **detail},
    )
    return pair


def _claims(token: Any) -> tuple[int, UUID]:
    try:
        user_id = int(token["uid"])
    except (KeyError, TypeError, ValueError):
        raise token_invalid() from None
    session_id = parse_session_id(token.get("sid"))
    if session_id is None:
        raise token_invalid()
    return user_id, session_id


def refresh_tokens(raw: str) -> TokenPair:
    """Rotate: the presented refresh token is blacklisted and a new pair issued.

    Fails (401) when the token is invalid, expired, blacklisted or not the session's
    live one (``token_invalid``), when the session was revoked or expired
    (``session_revoked``), or when the user was deactivated or changed the password
    (``token_invalid``). The session row is locked, so two refreshes racing with one
    token cannot both succeed.
    """
    try:
        old = CappedRefreshToken(raw)  # type: ignore[arg-type]  # signature, type, exp, blacklist
    except TokenError:
        raise token_invalid() from None
    user_id, session_id = _claims(old)
    with transaction.atomic():
        session = (
            UserSession.objects.select_for_update().filter(pk=session_id, user_id=user_id).first()
        )
        if session is None:
            raise token_invalid()
        if not session.is_active:
            raise ApiError("session_revoked", status_code=401)
        if old["jti"] != session.refresh_jti or is_blacklisted(old["jti"]):
            raise token_invalid()
        user = User.objects.select_related("unit").get(pk=user_id)
        if not user.is_active or old.get("pwd") != password_stamp(user):
            raise token_invalid()
        blacklist_jtis([old["jti"]])
        pair = issue_tokens(user, session)
        session.last_seen_at = timezone.now()
        session.save(update_fields=["last_seen_at"])
    return pair


def verify_token(raw: str) -> dict[str, Any]:
    """Would this token be accepted? Signature, expiry, blacklist, and its session,
    user and password stamp. Raises 401 ``token_invalid`` (or ``session_revoked``)."""
    try:
        token = CappedUntypedToken(raw)  # type: ignore[arg-type]
    except TokenError:
        raise token_invalid() from None
    token_type = token.get("token_type")
    if token_type not in ("access", "refresh"):
        raise token_invalid()
    jti = token.get("jti")
    if not isinstance(jti, str) or is_blacklisted(jti):
        raise token_invalid()
    user_id, session_id = _claims(token)
    session = (
        UserSession.objects.select_related("user").filter(pk=session_id, user_id=user_id).first()
    )
    if session is None:
        raise token_invalid()
    if not session.is_active:
        raise ApiError("session_revoked", status_code=401)
    if token_type == "refresh" and jti != session.refresh_jti:  # noqa: S105 (a claim value)
        raise token_invalid()
    if not session.user.is_active or token.get("pwd") != password_stamp(session.user):
        raise token_invalid()
    return {
        "token_type": token_type,
        "session_id": session.pk,
        "expires_at": datetime_from_epoch(token["exp"]),
    }


def _revoke_locked(sessions: list[UserSession], now: datetime) -> list[UserSession]:
    """Mark locked session rows revoked and blacklist their live refresh tokens;
    returns the ones that were not revoked already."""
    changed = [s for s in sessions if s.revoked_at is None]
    for session in changed:
        session.revoked_at = now
    if changed:
        UserSession.objects.filter(pk__in=[s.pk for s in changed]).update(revoked_at=now)
    blacklist_jtis(s.refresh_jti for s in sessions)
    return changed


def logout(user: User, session: UserSession, refresh: str = "") -> None:
    """Sign this device out: revoke its session and blacklist its refresh token(s)."""
    extra_jti = ""
    if refresh:
        # Only a valid token that really belongs to this session is touched; anything
        # else (expired, already blacklisted, another session's) is ignored.
        try:
            presented = CappedRefreshToken(refresh)  # type: ignore[arg-type]
        except TokenError:
            presented = None
        if presented is not None and parse_session_id(presented.get("sid")) == session.pk:
            extra_jti = presented["jti"]
    with transaction.atomic():
        locked = list(UserSession.objects.select_for_update().filter(pk=session.pk))
        _revoke_locked(locked, timezone.now())
        blacklist_jtis([extra_jti])
        record("auth.logout", actor=user, obj=session, detail={"device_name": session.device_name})


# --- Device sessions ("my devices") --------------------------------------------------------


def revoke_session(actor: User, session_id: UUID) -> UserSession:
    """Revoke one of the actor's own sessions (another's is a 404, recorded as denied).
    Idempotent: revoking a revoked session changes nothing and answers the same."""
    owner = UserSession.objects.filter(pk=session_id).values_list("user_id", flat=True).first()
    if owner != actor.pk:
        if owner is not None:
            record_denied(
                "session.revoke", actor=actor, object_type=SESSION_TYPE, object_id=str(session_id)
            )
        raise NotFound()
    with transaction.atomic():
        session = UserSession.objects.select_for_update().get(pk=session_id)
        if _revoke_locked([session], timezone.now()):
            record(
                "session.revoked",
                actor=actor,
                obj=session,
                detail={"reason": "user", "device_name": session.device_name},
            )
    return session


def revoke_all_sessions(actor: User, current: UserSession | None, keep_current: bool) -> int:
    """Sign out every device of the actor (a lost phone), optionally keeping this one."""
    now = timezone.now()
    with transaction.atomic():
        query = UserSession.objects.select_for_update().filter(
            user=actor, revoked_at__isnull=True, expires_at__gt=now
        )
        if keep_current and current is not None:
            query = query.exclude(pk=current.pk)
        revoked = _revoke_locked(list(query), now)
        for session in revoked:
            record(
                "session.revoked",
                actor=actor,
                obj=session,
                detail={"reason": "revoke_all", "device_name": session.device_name},
            )
    return len(revoked)


# --- Passwords ---------------------------------------------------------------------------


def _validate_new_password(user: User, old_password: str, new_password: str) -> None:
    errors = new_password_errors(user, old_password, new_password)
    if errors:
        raise ApiError("validation_error", fields={"new_password": errors})


def _set_password_locked(user: User, new_password: str, now: datetime) -> User:
    locked = User.objects.select_for_update(of=("self",)).select_related("unit").get(pk=user.pk)
    locked.set_password(new_password)
    locked.password_changed_at = now
    locked.must_change_password = False
    locked.save(update_fields=["password", "password_changed_at", "must_change_password"])
    return locked


def _revoke_for_password_change(user: User, keep: UserSession | None, now: datetime) -> int:
    query = UserSession.objects.select_for_update().filter(
        user=user, revoked_at__isnull=True, expires_at__gt=now
    )
    if keep is not None:
        query = query.exclude(pk=keep.pk)
    revoked = _revoke_locked(list(query), now)
    for session in revoked:
        record(
            "session.revoked",
            actor=user,
            obj=session,
            detail={"reason": "password_changed", "device_name": session.device_name},
        )
    return len(revoked)


def change_expired_password(
    *, username: str, old_password: str, new_password: str, otp: str = "", client: ClientInfo
) -> PasswordChanged:
    """The signed-out flow (typically after ``password_expired``): credentials are
    checked and counted exactly like a login; on success every session is revoked."""
    keys = throttling.login_keys(username, client.address)
    action = "auth.password_change_failed"
    _refuse_if_locked(keys, username, action)
    user = _find_user(username)
    if not _verify_password(user, old_password, upgrade=False):
        _count_failure(
            keys,
            action=action,
            username=username,
            user=user,
            reason="bad_credentials",
            error=ApiError("invalid_credentials", status_code=401),
        )
    assert user is not None
    _check_second_factor(user, otp, keys, action)
    _validate_new_password(user, old_password, new_password)
    now = timezone.now()
    with transaction.atomic():
        user = _set_password_locked(user, new_password, now)
        revoked = _revoke_for_password_change(user, None, now)
        throttling.reset_username(username, everywhere=True)
        record(
            "auth.password_changed",
            actor=user,
            obj=user,
            detail={"flow": "signed_out", "sessions_revoked": revoked},
        )
    return PasswordChanged(user=user, sessions_revoked=revoked)


def change_password(
    user: User,
    session: UserSession | None,
    *,
    old_password: str,
    new_password: str,
    client: ClientInfo,
) -> PasswordChanged:
    """The signed-in flow: other sessions are revoked; this device gets a new pair
    (the password stamp in its old tokens no longer matches)."""
    _require_current_password(user, old_password, client, "auth.password_change_failed")
    _validate_new_password(user, old_password, new_password)
    now = timezone.now()
    pair = None
    with transaction.atomic():
        user = _set_password_locked(user, new_password, now)
        revoked = _revoke_for_password_change(user, session, now)
        if session is not None:
            current = UserSession.objects.select_for_update().get(pk=session.pk)
            blacklist_jtis([current.refresh_jti])
            pair = issue_tokens(user, current)
        throttling.reset_username(user.username, everywhere=True)
        record(
            "auth.password_changed",
            actor=user,
            obj=user,
            detail={"flow": "signed_in", "sessions_revoked": revoked},
        )
    return PasswordChanged(user=user, sessions_revoked=revoked, pair=pair)


# --- TOTP set-up, confirmation, removal ------------------------------------------------------


def totp_setup(user: User) -> tuple[str, str]:
    """Store a new, unconfirmed secret; returns (secret, otpauth URI). Refused while a
    confirmed factor exists (it must be disabled first, with password and code)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.has_totp:
            raise Conflict("totp_already_enabled")
        secret = pyotp.random_base32()
        locked.totp_secret = secret
        locked.totp_confirmed_at = None
        locked.save(update_fields=["totp_secret", "totp_confirmed_at"])
        record("totp.setup_started", actor=user, obj=user)
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.username, issuer_name=settings.GOVDESK_TOTP_ISSUER
    )
    return secret, uri


def totp_confirm(user: User, session: UserSession | None, code: str) -> None:
    """Enable the pending secret with a first valid code; this session's MFA is then
    satisfied (a session that owed the set-up is unblocked)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.has_totp:
            raise Conflict("totp_already_enabled")
        if not locked.totp_secret:
            raise Conflict("totp_not_pending")
        if not _consume_totp(locked, code):
            raise ApiError("otp_invalid")
        locked.totp_confirmed_at = timezone.now()
        locked.save(update_fields=["totp_confirmed_at"])
        if session is not None:
            UserSession.objects.filter(pk=session.pk).update(mfa_satisfied=True)
            session.mfa_satisfied = True
        record("totp.enabled", actor=user, obj=user)


def totp_disable(user: User, *, password: str, code: str, client: ClientInfo) -> None:
    """Remove the factor; needs the password and a current code (wrong ones count as
    login failures). Refused when one of the user's roles requires TOTP."""
    if totp_required(user):
        raise ApiError("totp_required_by_role", status_code=422)
    if not user.has_totp:
        raise Conflict("totp_not_enabled")
    action = "totp.disable_failed"
    keys = _require_current_password(user, password, client, action)
    if not _consume_totp(user, code):
        _count_failure(
            keys,
            action=action,
            username=user.username,
            user=user,
            reason="otp_invalid",
            error=ApiError("otp_invalid"),
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.totp_secret = ""
        locked.totp_confirmed_at = None
        locked.save(update_fields=["totp_secret", "totp_confirmed_at"])
        record("totp.disabled", actor=user, obj=user)
