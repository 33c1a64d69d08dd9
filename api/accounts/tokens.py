"""Issuing, rotating and blacklisting token pairs bound to a device session.

Docs: docs/identity.md#tokens. A refresh token carries ``uid`` (user id), ``sid``
(the UserSession id) and ``pwd`` (a stamp of the password hash); the access token
minted from it copies those claims. The session row remembers the jti of its one
live refresh token (``UserSession.refresh_jti``): rotation blacklists the previous
one, and revoking a session blacklists the live one. A refresh token never outlives
its session (``exp`` is capped at ``UserSession.expires_at``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_to_epoch

from api.accounts.authentication import password_stamp
from api.accounts.models import User, UserSession
from api.accounts.token_types import CappedRefreshToken


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    session: UserSession


def open_session(
    user: User,
    *,
    device_name: str = "",
    user_agent: str = "",
    ip_address: str | None = None,
    mfa_satisfied: bool = True,
) -> UserSession:
    """A new device session; it lives REFRESH_TOKEN_LIFETIME from now, whatever the
    refreshes (the device signs in again after that)."""
    now = timezone.now()
    return UserSession.objects.create(
        user=user,
        device_name=device_name[:100],
        user_agent=user_agent[:300],
        ip_address=ip_address,
        created_at=now,
        last_seen_at=now,
        expires_at=now + api_settings.REFRESH_TOKEN_LIFETIME,
        mfa_satisfied=mfa_satisfied,
    )


def issue_tokens(user: User, session: UserSession) -> TokenPair:
    """A fresh refresh/access pair for ``session``; it becomes the session's live pair.

    The refresh token is recorded as outstanding (with its final claims) and its jti
    is stored on the session. The caller blacklists the previous one when rotating.
    """
    refresh = CappedRefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh["sid"] = str(session.pk)
    refresh["pwd"] = password_stamp(user)
    refresh["exp"] = min(refresh["exp"], datetime_to_epoch(session.expires_at))
    refresh.outstand()
    session.refresh_jti = refresh["jti"]
    UserSession.objects.filter(pk=session.pk).update(refresh_jti=session.refresh_jti)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), session=session)


def blacklist_jtis(jtis: Iterable[str]) -> int:
    """Blacklist the outstanding refresh tokens with these ids (idempotent)."""
    wanted = [j for j in jtis if j]
    if not wanted:
        return 0
    outstanding = list(OutstandingToken.objects.filter(jti__in=wanted).only("id"))
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(outstanding)


def is_blacklisted(jti: str) -> bool:
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


def parse_session_id(value: object) -> uuid.UUID | None:
    """The ``sid`` claim as a UUID, or None when it is absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
