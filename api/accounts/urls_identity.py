"""Identity routes under /api/v1/ (docs/identity.md)."""

from django.urls import path

from api.accounts.views.auth import (
    LogoutView,
    PasswordChangeView,
    TokenObtainView,
    TokenRefreshView,
    TokenVerifyView,
)
from api.accounts.views.lockouts import UnlockView
from api.accounts.views.me import MeView
from api.accounts.views.sessions import SessionListView, SessionRevokeAllView, SessionRevokeView
from api.accounts.views.totp import TotpConfirmView, TotpDisableView, TotpSetupView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/token/verify/", TokenVerifyView.as_view(), name="auth-token-verify"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/password/change/", PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/totp/setup/", TotpSetupView.as_view(), name="auth-totp-setup"),
    path("auth/totp/confirm/", TotpConfirmView.as_view(), name="auth-totp-confirm"),
    path("auth/totp/disable/", TotpDisableView.as_view(), name="auth-totp-disable"),
    path("auth/unlock/", UnlockView.as_view(), name="auth-unlock"),
    path("me/", MeView.as_view(), name="me"),
    path("sessions/", SessionListView.as_view(), name="sessions"),
    path("sessions/revoke-all/", SessionRevokeAllView.as_view(), name="sessions-revoke-all"),
    path("sessions/<uuid:session_id>/revoke/", SessionRevokeView.as_view(), name="sessions-revoke"),
]
