"""Serializers of the organisation API: units, members, posts, roles, appointments.

Docs: docs/organisation.md#endpoints. Read serializers only read what the selectors
in api/accounts/selectors.py load; write serializers are strict (unknown fields are
refused with 400 ``unknown_field``) and only validate shape — rules live in
api/accounts/actions/org.py.
"""

from __future__ import annotations

from rest_framework import serializers

from api.accounts.models import (
    AppointmentKind,
    AppointmentRequest,
    AppointmentStatus,
    Post,
    Role,
    RoleAssignment,
    Unit,
    UnitKind,
    User,
)
from api.accounts.selectors import MAX_ID
from api.common.people import PersonRefSerializer
from api.common.serializers import StrictSerializer

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$"
MOBILE_PATTERN = r"^\+?[0-9][0-9 -]{4,19}$"


def _id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- units ----------------------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "name",
            "short_name",
            "code",
            "kind",
            "parent_id",
            "depth",
            "doc_prefix",
            "exchange_enabled",
            "is_active",
        ]
        read_only_fields = fields


class UnitCreateSerializer(StrictSerializer):
    parent_id = _id_field()
    name = serializers.CharField(max_length=120)
    short_name = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    code = serializers.RegexField(CODE_PATTERN, max_length=40)
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    doc_prefix = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    exchange_enabled = serializers.BooleanField(required=False, default=True)


class UnitUpdateSerializer(StrictSerializer):
    parent_id = _id_field(required=False)
    name = serializers.CharField(max_length=120, required=False)
    short_name = serializers.CharField(max_length=40, required=False, allow_blank=True)
    code = serializers.RegexField(CODE_PATTERN, max_length=40, required=False)
    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    doc_prefix = serializers.CharField(max_length=20, required=False, allow_blank=True)
    exchange_enabled = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


# --- people -----------------------------------------------------------------------------------


class UserBriefSerializer(PersonRefSerializer):
    """A person embedded in an organisation response: the shared shape plus the title."""

    title = serializers.CharField(read_only=True)


class RoleAssignmentSerializer(serializers.ModelSerializer):
    unit_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "role", "unit_id", "granted_at"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    unit_id = serializers.IntegerField(read_only=True)
    roles = RoleAssignmentSerializer(source="role_assignments", many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "title",
            "mobile",
            "unit_id",
            "is_active",
            "must_change_password",
            "roles",
        ]
        read_only_fields = fields


class UserCreateSerializer(StrictSerializer):
    username = serializers.RegexField(USERNAME_PATTERN, max_length=64)
    display_name = serializers.CharField(max_length=64)
    password = serializers.CharField(
        max_length=128, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    title = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    mobile = serializers.RegexField(
        MOBILE_PATTERN, max_length=20, required=False, allow_blank=True, default=""
    )


class UserUpdateSerializer(StrictSerializer):
    display_name = serializers.CharField(max_length=64, required=False)
    title = serializers.CharField(max_length=64, required=False, allow_blank=True)
    mobile = serializers.RegexField(MOBILE_PATTERN, max_length=20, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class RoleGrantSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    unit_id = _id_field(
        required=False, help_text="The unit the role is scoped to; default: the person's unit."
    )


# --- posts ----------------------------------------------------------------------------------


class PostSerializer(serializers.ModelSerializer):
    unit_id = serializers.IntegerField(read_only=True)
    holder = UserBriefSerializer(read_only=True, allow_null=True)
    backup = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Post
        fields = ["id", "unit_id", "name", "holder", "backup", "created_at"]
        read_only_fields = fields


class PostCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    holder_id = _id_field(required=False, allow_null=True, default=None)
    backup_id = _id_field(required=False, allow_null=True, default=None)


class PostUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64, required=False)
    holder_id = _id_field(required=False, allow_null=True)
    backup_id = _id_field(required=False, allow_null=True)


# --- appointment requests (备案) ---------------------------------------------------------------


class AppointmentSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)
    unit_id = serializers.IntegerField(read_only=True)
    requested_by = UserBriefSerializer(read_only=True)
    decided_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AppointmentRequest
        fields = [
            "id",
            "kind",
            "role",
            "user",
            "unit_id",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class AppointmentCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=AppointmentKind.choices)
    role = serializers.ChoiceField(
        choices=Role.choices,
        help_text="unit_admin, clerk, leader, seal_custodian or supervisor (other roles: 400)",
    )
    user_id = _id_field()
    unit_id = _id_field()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AppointmentDecisionSerializer(StrictSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class EmptySerializer(StrictSerializer):
    pass


APPOINTMENT_STATUSES = [s for s, _ in AppointmentStatus.choices]
