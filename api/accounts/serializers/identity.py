"""Request and response shapes of the identity endpoints (docs/identity.md).

Write serializers are strict (api/common/serializers.py): unknown fields are refused,
and text fields accept only JSON strings (a number or an object where a password
belongs is a client bug, answered 400 rather than coerced). Lengths are bounded so a
huge string is a 400.
"""

from __future__ import annotations

from rest_framework import serializers

from api.accounts.models import UserSession
from api.common.serializers import StrictSerializer


def _secret_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=256,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        **kwargs,
    )


# --- Requests ---------------------------------------------------------------------------


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = _secret_field()
    otp = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    device_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class TokenRefreshInputSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=4096)


class TokenVerifyInputSerializer(StrictSerializer):
    token = serializers.CharField(max_length=4096)


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=4096, required=False, allow_blank=True, default="")


class PasswordChangeSerializer(StrictSerializer):
    username = serializers.CharField(
        max_length=150,
        required=False,
        help_text="Required when signed out (expired password); omit when signed in.",
    )
    old_password = _secret_field()
    new_password = _secret_field()
    otp = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text="Signed-out flow only, when the account has TOTP.",
    )


class RevokeAllSerializer(StrictSerializer):
    keep_current = serializers.BooleanField(required=False, default=False)


class EmptySerializer(StrictSerializer):
    """No fields: an empty JSON object (or no body)."""


class TotpConfirmSerializer(StrictSerializer):
    code = serializers.CharField(max_length=10)


class TotpDisableSerializer(StrictSerializer):
    password = _secret_field()
    code = serializers.CharField(max_length=10)


# --- Responses --------------------------------------------------------------------------


class IdentityUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    title = serializers.CharField()
    unit = IdentityUnitSerializer()


class LoginResultSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    session_id = serializers.UUIDField()
    user = UserSummarySerializer()
    password_expires_at = serializers.DateTimeField(allow_null=True)
    mfa_setup_required = serializers.BooleanField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    session_id = serializers.UUIDField()


class TokenVerifyResultSerializer(serializers.Serializer):
    token_type = serializers.ChoiceField(choices=["access", "refresh"])
    session_id = serializers.UUIDField()
    expires_at = serializers.DateTimeField()


class PasswordChangeResultSerializer(serializers.Serializer):
    password_expires_at = serializers.DateTimeField(allow_null=True)
    sessions_revoked = serializers.IntegerField(
        help_text="Other sessions signed out (all of them in the signed-out flow)."
    )
    access = serializers.CharField(
        required=False, help_text="Signed-in flow: this device's new pair."
    )
    refresh = serializers.CharField(required=False)
    session_id = serializers.UUIDField(required=False)


class RoleRefSerializer(serializers.Serializer):
    role = serializers.CharField()
    unit_id = serializers.IntegerField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    title = serializers.CharField()
    unit = IdentityUnitSerializer()
    roles = RoleRefSerializer(many=True)
    has_totp = serializers.BooleanField()
    password_expires_at = serializers.DateTimeField(allow_null=True)
    session_id = serializers.UUIDField(allow_null=True)
    mfa_setup_required = serializers.BooleanField(
        help_text="This session still owes the TOTP set-up its role requires."
    )


class DeviceSessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = UserSession
        fields = [
            "id",
            "device_name",
            "user_agent",
            "ip_address",
            "created_at",
            "last_seen_at",
            "expires_at",
            "revoked_at",
            "mfa_satisfied",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, obj: UserSession) -> bool:
        return obj.pk == self.context.get("current_session_id")


class RevokeAllResultSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()


class TotpSetupResultSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32; shown once. Never logged.")
    otpauth_uri = serializers.CharField()


class TotpStateSerializer(serializers.Serializer):
    has_totp = serializers.BooleanField()
