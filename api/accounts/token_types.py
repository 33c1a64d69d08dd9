"""Token classes whose validation refuses a lifetime longer than the configured one.

Docs: docs/security.md#tokens. A token signed with the key but minted with ``exp`` far
after ``iat`` (a leaked key, a bug, a forged long-lived token) is 401 ``token_invalid``:
``exp - iat`` may not exceed the class's configured lifetime (plus the clock leeway),
and a token without ``iat`` is refused too. simplejwt checks the signature, type and
expiry; this adds the cap.
"""

from __future__ import annotations

from datetime import timedelta

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken


class _LifetimeCapped:
    def _cap(self) -> timedelta:
        return self.lifetime  # type: ignore[attr-defined]

    def verify(self) -> None:
        super().verify()  # type: ignore[misc]
        payload = self.payload  # type: ignore[attr-defined]
        exp, iat = payload.get("exp"), payload.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise TokenError("Token has no issue time")
        leeway = api_settings.LEEWAY
        leeway_seconds = leeway.total_seconds() if isinstance(leeway, timedelta) else leeway
        if exp - iat > self._cap().total_seconds() + leeway_seconds:
            raise TokenError("Token lifetime exceeds the configured one")


class CappedAccessToken(_LifetimeCapped, AccessToken):
    pass


class CappedRefreshToken(_LifetimeCapped, RefreshToken):  # type: ignore[misc]
    access_token_class = CappedAccessToken


class CappedUntypedToken(_LifetimeCapped, UntypedToken):
    """Either kind: capped at the longer (refresh) lifetime."""

    def _cap(self) -> timedelta:
        return max(api_settings.ACCESS_TOKEN_LIFETIME, api_settings.REFRESH_TOKEN_LIFETIME)
