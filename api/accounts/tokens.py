"""Issuing token pairs bound to a device session. Docs: docs/security.md#tokens."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from api.accounts.authentication import password_stamp
from api.accounts.models import User, UserSession


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
    now = timezone.now()
    return UserSession.objects.create(
        user=user,
        device_name=device_name[:100],
        user_agent=user_agent[:300],
        ip_address=ip_address,
        created_at=now,
        last_seen_at=now,
        expires_at=now + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        mfa_satisfied=mfa_satisfied,
    )


def issue_tokens(user: User, session: UserSession) -> TokenPair:
    """A refresh/access pair carrying only ``uid``, ``sid`` and the password stamp."""
    refresh = RefreshToken.for_user(user)
    refresh["sid"] = str(session.pk)
    refresh["pwd"] = password_stamp(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), session=session)
