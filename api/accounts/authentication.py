"""JWT authentication bound to a device session, with roles read from the database.

Docs: docs/identity.md#tokens. Every token carries ``sid`` (the UserSession id).
On each request the user and the session are loaded from the database: a revoked
or expired session (logout, lost phone) answers 401 ``session_revoked``; a
deactivated user, a changed password (the ``pwd`` stamp differs) or a token without
a usable ``uid``/``sid`` answers 401 ``token_invalid`` — whatever the token's
expiry. Claims other than ``uid``/``sid``/``pwd`` are never trusted for anything.
"""

from __future__ import annotations

import hashlib
import uuid

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from api.accounts.models import User, UserSession

# Refresh last_seen_at at most this often, to keep the hot path write-free.
LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        try:
            user_id = int(validated_token["uid"])
            session_id = uuid.UUID(str(validated_token["sid"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("token lacks a usable uid/sid") from None
        session = (
            UserSession.objects.select_related("user", "user__unit")
            .filter(pk=session_id, user_id=user_id)
            .first()
        )
        if session is None:
            raise InvalidToken("no such session")
        if not session.is_active:
            # DRF's own class keeps the code a plain string, so the envelope says
            # ``session_revoked`` (simplejwt's subclasses all map to token_invalid).
            raise exceptions.AuthenticationFailed("session revoked", code="session_revoked")
        user: User = session.user
        if not user.is_active:
            raise InvalidToken("user inactive")
        if validated_token.get("pwd") != password_stamp(user):
            raise InvalidToken("password changed")
        now = timezone.now()
        if (now - session.last_seen_at).total_seconds() > LAST_SEEN_RESOLUTION_SECONDS:
            UserSession.objects.filter(pk=session.pk).update(last_seen_at=now)
            session.last_seen_at = now
        user.govdesk_session = session  # type: ignore[attr-defined]
        return user

    def get_header(self, request):
        try:
            return super().get_header(request)
        except UnicodeEncodeError:
            # Only reachable with a header that was not latin-1 decoded by the server.
            raise InvalidToken("undecodable authorization header") from None

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            user, _token = result
            session = user.govdesk_session  # type: ignore[attr-defined]
            # Exposed for permissions (MFA set-up gate) and for session views.
            request._request.govdesk_session = session
            check_vpn_peer(request, user)
        return result


def check_vpn_peer(request, user) -> None:
    """Key lending (docs/vpn.md#key-lending): a request from a VPN address carries
    the token of the device's owner, or it is refused (403 ``vpn_peer_mismatch``) and
    audited. NetworkZoneMiddleware put the address's device on ``vpn_peer``."""
    peer = getattr(request._request, "vpn_peer", None)
    if peer is None or peer.user_id == user.pk:
        return
    from api.audit.recorder import record_denied
    from api.common.errors import Forbidden

    record_denied(
        "vpn.peer_mismatch",
        actor=user,
        object_type="vpn.vpndevice",
        object_id=peer.device_id,
        detail={
            "reason": "token_of_another_user",
            "address": peer.address,
            "device_id": peer.device_id,
            "device_owner_id": peer.user_id,
            "path": request._request.path[:200],
        },
    )
    raise Forbidden("vpn_peer_mismatch")


def password_stamp(user: User) -> str:
    """A short fingerprint of the password hash: tokens die when it changes."""
    return hashlib.sha256(user.password.encode()).hexdigest()[:12]


def current_session(request) -> UserSession | None:
    """The UserSession the request's token is bound to (None when anonymous)."""
    return getattr(
        request._request if hasattr(request, "_request") else request, "govdesk_session", None
    )


class SessionJWTScheme(OpenApiAuthenticationExtension):
    """OpenAPI security scheme for SessionJWTAuthentication (a bearer JWT)."""

    target_class = "api.accounts.authentication.SessionJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106 (the scheme name, not a secret)
            bearer_format="JWT",
        )
