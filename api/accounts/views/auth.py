"""Login, token refresh/verify, logout and password change (docs/identity.md).

Thin views: each validates its body and calls one action in
api/accounts/actions/identity.py. Responses carrying tokens are ``no-store``.
"""

from __future__ import annotations

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.actions import identity
from api.accounts.authentication import current_session
from api.accounts.passwords import password_expires_at
from api.accounts.serializers.identity import (
    LoginResultSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeResultSerializer,
    PasswordChangeSerializer,
    TokenPairSerializer,
    TokenRefreshInputSerializer,
    TokenVerifyInputSerializer,
    TokenVerifyResultSerializer,
)
from api.accounts.throttling import LoginRateThrottle
from api.common.errors import ApiError
from api.common.i18n import t
from api.common.schema import ErrorSerializer

TAG = ["identity"]


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ErrorSerializer, description="Error envelope")
        for status in statuses
    }


def client_info(request) -> identity.ClientInfo:
    django_request: HttpRequest = getattr(request, "_request", request)
    address = getattr(django_request, "client_address", None) or django_request.META.get(
        "REMOTE_ADDR"
    )
    return identity.ClientInfo(
        address=address or None,
        user_agent=django_request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def user_summary(user) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "title": user.title,
        "unit": {"id": user.unit_id, "name": user.unit.name},
    }


class TokenObtainView(APIView):
    """Sign in: username + password (+ one-time code) → a token pair for a new device
    session."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=TAG,
        operation_id="auth_token_obtain",
        request=LoginSerializer,
        responses={200: LoginResultSerializer, **errors(400, 401, 403, 429)},
        auth=[],
        description=(
            "401 `invalid_credentials` (same for unknown users), `otp_required`, "
            "`otp_invalid`; 403 `password_expired`; 429 `account_locked` / `throttled` "
            "with Retry-After."
        ),
    )
    def post(self, request):
        body = LoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = identity.login(
            username=data["username"],
            password=data["password"],
            otp=data["otp"],
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


class TokenRefreshView(APIView):
    """Rotate a refresh token: the old one is blacklisted, a new pair is returned."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAG,
        operation_id="auth_token_refresh",
        request=TokenRefreshInputSerializer,
        responses={200: TokenPairSerializer, **errors(400, 401)},
        auth=[],
    )
    def post(self, request):
        body = TokenRefreshInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pair = identity.refresh_tokens(body.validated_data["refresh"])
        payload = {"access": pair.access, "refresh": pair.refresh, "session_id": pair.session.pk}
        return no_store(Response(TokenPairSerializer(payload).data))


class TokenVerifyView(APIView):
    """Check a token as the API would: signature, expiry, blacklist, session, user."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAG,
        operation_id="auth_token_verify",
        request=TokenVerifyInputSerializer,
        responses={200: TokenVerifyResultSerializer, **errors(400, 401)},
        auth=[],
    )
    def post(self, request):
        body = TokenVerifyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = identity.verify_token(body.validated_data["token"])
        return Response(TokenVerifyResultSerializer(result).data)


class LogoutView(APIView):
    """Sign this device out: its session is revoked and its refresh token blacklisted."""

    allow_mfa_pending = True

    @extend_schema(
        tags=TAG,
        operation_id="auth_logout",
        request=LogoutSerializer,
        responses={204: None, **errors(400, 401)},
    )
    def post(self, request):
        body = LogoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = current_session(request)
        if session is None:  # pragma: no cover - authentication always sets it
            raise ApiError("not_authenticated", status_code=401)
        identity.logout(request.user, session, body.validated_data["refresh"])
        return Response(status=204)


class PasswordChangeView(APIView):
    """Change the password. Signed in: {old_password, new_password}; other devices are
    signed out and this one gets a new pair. Signed out (after ``password_expired``):
    {username, old_password, new_password[, otp]}, counted like a login; every device
    is signed out."""

    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        tags=TAG,
        operation_id="auth_password_change",
        request=PasswordChangeSerializer,
        responses={200: PasswordChangeResultSerializer, **errors(400, 401, 429)},
    )
    def post(self, request):
        body = PasswordChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        client = client_info(request)
        if request.user and request.user.is_authenticated:
            user = request.user
            if "username" in data and data["username"] != user.username:
                raise ApiError(
                    "validation_error",
                    fields={
                        "username": [
                            t(
                                "已登录时只能修改自己的密码。",
                                "When signed in you can change only your own password.",
                            )
                        ]
                    },
                )
            changed = identity.change_password(
                user,
                current_session(request),
                old_password=data["old_password"],
                new_password=data["new_password"],
                client=client,
            )
        else:
            if not data.get("username"):
                raise ApiError(
                    "validation_error",
                    fields={"username": [t("该字段是必填项。", "This field is required.")]},
                )
            changed = identity.change_expired_password(
                username=data["username"],
                old_password=data["old_password"],
                new_password=data["new_password"],
                otp=data["otp"],
                client=client,
            )
        payload: dict = {
            "password_expires_at": password_expires_at(changed.user),
            "sessions_revoked": changed.sessions_revoked,
        }
        if changed.pair is not None:
            pair = changed.pair
            payload.update(access=pair.access, refresh=pair.refresh, session_id=pair.session.pk)
        return no_store(Response(PasswordChangeResultSerializer(payload).data))
