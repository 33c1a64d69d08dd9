"""Passkey (WebAuthn) routes under /api/v1/ (docs/identity.md#passkeys-webauthn)."""

from django.urls import path

from api.accounts.views import passkeys

urlpatterns = [
    path(
        "me/passkeys/registration-options/",
        passkeys.PasskeyRegistrationOptionsView.as_view(),
        name="passkeys-registration-options",
    ),
    path(
        "me/passkeys/reauth-options/",
        passkeys.PasskeyReauthOptionsView.as_view(),
        name="passkeys-reauth-options",
    ),
    path("me/passkeys/", passkeys.PasskeyListView.as_view(), name="passkeys"),
    path("me/passkeys/<int:passkey_id>/", passkeys.PasskeyDeleteView.as_view(), name="passkey"),
    path(
        "auth/passkey/options/",
        passkeys.PasskeyLoginOptionsView.as_view(),
        name="auth-passkey-options",
    ),
    path("auth/passkey/", passkeys.PasskeyLoginView.as_view(), name="auth-passkey"),
]
