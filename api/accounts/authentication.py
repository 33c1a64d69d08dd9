"""JWT authentication bound to a device session, with roles read from the database.

Docs: docs/security.md#tokens. Every token carries ``sid`` (the UserSession id).
On each request the user and the session are loaded from the database: a revoked
session (logout, lost phone), a deactivated user or a changed password stops the
token at once, whatever its expiry. Claims other than ``uid``/``sid`` are never
trusted for authorisation.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from api.accounts.models import User, UserSession

# Refresh last_seen_at at most this often, to keep the hot path write-free.
LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        try:
            user_id = int(validated_token["uid"])
            session_id = validated_token["sid"]
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("token lacks uid/sid") from None
        session = (
            UserSession.objects.select_related("user", "user__unit")
            .filter(pk=session_id, user_id=user_id)
            .first()
        )
        if session is None or not session.is_active:
            raise AuthenticationFailed("session revoked", code="session_revoked")
        user: User = session.user
        if not user.is_active:
            raise AuthenticationFailed("user inactive", code="token_invalid")
        if validated_token.get("pwd") != password_stamp(user):
            raise AuthenticationFailed("password changed", code="token_invalid")
        now = timezone.now()
        if (now - session.last_seen_at).total_seconds() > LAST_SEEN_RESOLUTION_SECONDS:
            UserSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        user.govdesk_session = session  # type: ignore[attr-defined]
        return user

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            user, _token = result
            # Exposed for permissions (MFA set-up gate) and for session views.
            request._request.govdesk_session = user.govdesk_session
        return result


def password_stamp(user: User) -> str:
    """A short fingerprint of the password hash: tokens die when it changes."""
    import hashlib

    return hashlib.sha256(user.password.encode()).hexdigest()[:12]
