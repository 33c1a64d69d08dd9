"""Passkeys (WebAuthn): register, list and delete my passkeys, and sign in with one
(the step-up challenge for an approval is the workflow's: api/workflow/views/step_up.py).

Docs: docs/identity.md#passkeys-webauthn. Thin views: each validates its body and
calls one function of api/accounts/actions/passkeys.py. Options and credentials are
the standard WebAuthn JSON forms (py_webauthn ``options_to_json``; the browser's
``credential.toJSON()``). Answers carrying tokens or challenges are ``no-store``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.actions import passkeys as actions
from api.accounts.authentication import current_session
from api.accounts.models import Passkey
from api.accounts.passwords import password_expires_at
from api.accounts.serializers.identity import (
    EmptySerializer,
    LoginResultSerializer,
    _secret_field,
)
from api.accounts.throttling import LoginRateThrottle
from api.accounts.views.auth import TAG, client_info, errors, no_store, user_summary
from api.common.auth import current_user
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.serializers import StrictSerializer

# --- Shapes ---------------------------------------------------------------------------------


class CredentialField(serializers.DictField):
    """A WebAuthn response in its JSON form (a JSON object, checked by py_webauthn)."""


class OptionsResultSerializer(serializers.Serializer):
    options = serializers.DictField(
        help_text="PublicKeyCredentialCreationOptionsJSON or …RequestOptionsJSON: give it "
        "to PublicKeyCredential.parse*OptionsFromJSON and navigator.credentials"
    )
    challenge_id = serializers.CharField(help_text="send back with the credential; 5 min, once")


class PasskeyRegisterSerializer(StrictSerializer):
    challenge_id = serializers.CharField(max_length=64)
    credential = CredentialField(help_text="RegistrationResponseJSON (credential.toJSON())")
    name = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="e.g. 我的手机"
    )


class AssertionSerializer(StrictSerializer):
    challenge_id = serializers.CharField(max_length=64)
    credential = CredentialField(help_text="AuthenticationResponseJSON (credential.toJSON())")


class PasskeyDeleteSerializer(StrictSerializer):
    password = _secret_field(required=False, allow_blank=True, default="")
    webauthn = AssertionSerializer(
        required=False, help_text="an assertion for the challenge of reauth-options"
    )


class PasskeyLoginSerializer(StrictSerializer):
    challenge_id = serializers.CharField(max_length=64)
    credential = CredentialField(help_text="AuthenticationResponseJSON (credential.toJSON())")
    device_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class PasskeySerializer(serializers.ModelSerializer):
    class Meta:
        model = Passkey
        fields = ["id", "name", "created_at", "last_used_at"]
        read_only_fields = fields


class PasskeyPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]


def _options(options: dict, challenge_id: str) -> Response:
    return no_store(Response({"options": options, "challenge_id": challenge_id}))


# --- My passkeys ----------------------------------------------------------------------------


class PasskeyRegistrationOptionsView(APIView):
    """Start registering a passkey on this device."""

    @extend_schema(
        tags=TAG,
        operation_id="passkeys_registration_options",
        request=EmptySerializer,
        responses={200: OptionsResultSerializer, **errors(400, 401, 403, 409)},
        description="409 `passkey_limit_reached` at 20 passkeys.",
    )
    def post(self, request):
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        options, challenge_id = actions.registration_options(
            current_user(request), current_session(request)
        )
        return _options(options, challenge_id)


class PasskeyListView(ListAPIView):
    """My passkeys, newest first (GET); register one (POST)."""

    serializer_class = PasskeySerializer
    pagination_class = PasskeyPagination

    def get_queryset(self):
        return Passkey.objects.filter(user_id=current_user(self.request).pk).only(
            "id", "name", "created_at", "last_used_at"
        )

    @extend_schema(
        tags=TAG,
        operation_id="passkeys_list",
        responses={200: PasskeySerializer(many=True), **errors(401, 403)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="passkeys_register",
        request=PasskeyRegisterSerializer,
        responses={201: PasskeySerializer, **errors(400, 401, 403, 409)},
        description=(
            "400 `passkey_registration_failed` (wrong, expired or reused challenge, "
            "another session's challenge, wrong origin or RP ID, no user verification); "
            "409 `passkey_already_registered`, `passkey_limit_reached`."
        ),
    )
    @idempotent
    def post(self, request):
        body = PasskeyRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        passkey = actions.register(
            current_user(request),
            current_session(request),
            challenge_id=data["challenge_id"],
            credential=dict(data["credential"]),
            name=data["name"],
        )
        return Response(PasskeySerializer(passkey).data, status=201)


class PasskeyReauthOptionsView(APIView):
    """A challenge for confirming with a passkey (instead of the password) before a
    passkey is deleted."""

    @extend_schema(
        tags=TAG,
        operation_id="passkeys_reauth_options",
        request=EmptySerializer,
        responses={200: OptionsResultSerializer, **errors(400, 401, 403, 409)},
        description="409 `no_passkey` when the user has none.",
    )
    def post(self, request):
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        options, challenge_id = actions.reauth_options(
            current_user(request), current_session(request)
        )
        return _options(options, challenge_id)


class PasskeyDeleteView(APIView):
    """Delete one of my passkeys: confirm with the current password or a passkey."""

    @extend_schema(
        tags=TAG,
        operation_id="passkeys_delete",
        request=PasskeyDeleteSerializer,
        responses={204: None, **errors(400, 401, 403, 404, 429)},
        description=(
            "Body `{password}` or `{webauthn: {challenge_id, credential}}` (challenge of "
            "`me/passkeys/reauth-options/`). 400 `reauthentication_required` (neither), "
            "`password_incorrect` (counted towards lockout), `passkey_invalid`; 404 for "
            "another person's passkey."
        ),
        examples=[OpenApiExample("With the password", value={"password": "…"}, request_only=True)],
    )
    def delete(self, request, passkey_id: int):
        body = PasskeyDeleteSerializer(data=request.data if request.data else {})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actions.delete(
            current_user(request),
            current_session(request),
            passkey_id,
            password=data["password"],
            assertion=dict(data["webauthn"]) if "webauthn" in data else None,
            client=client_info(request),
        )
        return Response(status=204)


# --- Sign in with a passkey -----------------------------------------------------------------


class PasskeyLoginOptionsView(APIView):
    """Start a username-less sign-in (discoverable credentials, empty allowCredentials)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=TAG,
        operation_id="auth_passkey_options",
        request=EmptySerializer,
        responses={200: OptionsResultSerializer, **errors(400, 429)},
        auth=[],
    )
    def post(self, request):
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        options, challenge_id = actions.login_options()
        return _options(options, challenge_id)


class PasskeyLoginView(APIView):
    """Sign in with a passkey → the same answer as the password login."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=TAG,
        operation_id="auth_passkey_login",
        request=PasskeyLoginSerializer,
        responses={200: LoginResultSerializer, **errors(400, 401, 403, 429)},
        auth=[],
        description=(
            "401 `passkey_invalid` (unknown credential, bad signature, wrong origin/RP, "
            "no user verification, reused or expired challenge, counter regression); "
            "403 `password_expired`; 429 `account_locked` / `throttled`."
        ),
    )
    def post(self, request):
        body = PasskeyLoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = actions.login(
            challenge_id=data["challenge_id"],
            credential=dict(data["credential"]),
            device_name=data["device_name"],
            client=client_info(request),
        )
        payload = {
            "access": result.pair.access,
            "refresh": result.pair.refresh,
            "session_id": result.pair.session.pk,
            "user": user_summary(result.user),
            "password_expires_at": password_expires_at(result.user),
            "mfa_setup_required": result.mfa_setup_required,
        }
        return no_store(Response(LoginResultSerializer(payload).data))
