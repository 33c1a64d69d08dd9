"""TOTP second factor: set up, confirm, disable (docs/identity.md#totp).

Set-up and confirmation stay reachable for a session that still owes the set-up its
role requires (``allow_mfa_pending``); confirming marks that session satisfied.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.actions import identity
from api.accounts.authentication import current_session
from api.accounts.serializers.identity import (
    EmptySerializer,
    TotpConfirmSerializer,
    TotpDisableSerializer,
    TotpSetupResultSerializer,
    TotpStateSerializer,
)
from api.accounts.views.auth import TAG, client_info, errors, no_store


class TotpSetupView(APIView):
    """A new secret for an authenticator app (unconfirmed until a code is confirmed)."""

    allow_mfa_pending = True

    @extend_schema(
        tags=TAG,
        operation_id="totp_setup",
        request=EmptySerializer,
        responses={200: TotpSetupResultSerializer, **errors(400, 401, 409)},
    )
    def post(self, request):
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        secret, uri = identity.totp_setup(request.user)
        return no_store(Response({"secret": secret, "otpauth_uri": uri}))


class TotpConfirmView(APIView):
    """Enable the pending secret with a current code."""

    allow_mfa_pending = True

    @extend_schema(
        tags=TAG,
        operation_id="totp_confirm",
        request=TotpConfirmSerializer,
        responses={200: TotpStateSerializer, **errors(400, 401, 409)},
    )
    def post(self, request):
        body = TotpConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        identity.totp_confirm(request.user, current_session(request), body.validated_data["code"])
        return Response({"has_totp": True})


class TotpDisableView(APIView):
    """Remove the factor (password and a current code); refused when a role needs it."""

    @extend_schema(
        tags=TAG,
        operation_id="totp_disable",
        request=TotpDisableSerializer,
        responses={200: TotpStateSerializer, **errors(400, 401, 403, 409, 422, 429)},
    )
    def post(self, request):
        body = TotpDisableSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        identity.totp_disable(
            request.user,
            password=body.validated_data["password"],
            code=body.validated_data["code"],
            client=client_info(request),
        )
        return Response({"has_totp": False})
