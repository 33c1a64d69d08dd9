"""Base permissions. Roles are read from the database on each request (never from
token claims); see api/accounts/roles.py and docs/organisation.md#roles.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from api.common.errors import ApiError


class IsAuthenticatedAndVerified(BasePermission):
    """Authenticated, and — when the user's role requires a second factor — with it
    set up. A session still owing its TOTP set-up may only reach the views that
    declare ``allow_mfa_pending = True`` (set-up, me, logout)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        session = getattr(request, "govdesk_session", None)
        if (
            session is not None
            and not session.mfa_satisfied
            and not getattr(view, "allow_mfa_pending", False)
        ):
            raise ApiError("mfa_setup_required", status_code=403)
        return True
