"""Request and response shapes of the meetings API. Docs: docs/meetings.md#api."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer, StrictSerializer
from api.meetings.models import Material, Meeting, MeetingState, Participant


class MeetingCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    agenda = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    host_id = serializers.IntegerField(min_value=1, required=False)
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )
    unit_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100
    )


class MeetingUpdateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    agenda = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    add_user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )
    remove_user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )


class CancelInSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SigninInSerializer(StrictSerializer):
    code = serializers.CharField(max_length=16)


class NominateInSerializer(StrictSerializer):
    unit_id = serializers.IntegerField(min_value=1)
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=50
    )


class LockInSerializer(StrictSerializer):
    locked = serializers.BooleanField()


class MuteInSerializer(StrictSerializer):
    muted = serializers.BooleanField()


class MuteSerializer(serializers.Serializer):
    participant_id = serializers.IntegerField()
    muted = serializers.BooleanField()
    streams = serializers.IntegerField(help_text="audio streams changed (0: not in the room)")


class EmptySerializer(StrictSerializer):
    pass


class MaterialUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class MeetingFilterSerializer(QuerySerializer):
    state = serializers.ChoiceField(choices=MeetingState.choices, required=False)


class ParticipantSerializer(serializers.ModelSerializer):
    user = PersonRefSerializer()
    unit_name = serializers.CharField(source="user.unit.name")

    class Meta:
        model = Participant
        fields = [
            "id", "user", "unit_name", "role", "via_unit_id", "signed_in_at",
            "signin_method", "removed",
        ]  # fmt: skip


class MaterialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Material
        fields = ["id", "original_name", "kind", "content_type", "size", "sha256", "uploaded_at"]


class MeetingSerializer(serializers.ModelSerializer):
    host = PersonRefSerializer()
    unit_name = serializers.CharField(source="unit.name")
    minutes_document_id = serializers.IntegerField(allow_null=True)
    can_manage = serializers.SerializerMethodField()
    video_available = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id", "title", "unit_id", "unit_name", "host", "starts_at", "ends_at", "place",
            "agenda", "state", "locked", "revision", "minutes_document_id", "created_at",
            "updated_at", "ended_at", "cancel_reason", "can_manage", "video_available",
        ]  # fmt: skip

    def get_can_manage(self, obj: Meeting) -> bool:
        return bool(self.context.get("manage", {}).get(obj.pk, False))

    def get_video_available(self, obj: Meeting) -> bool:
        return bool(self.context.get("video", False))


class MeetingDetailSerializer(MeetingSerializer):
    participants = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    signin_code = serializers.SerializerMethodField()

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "participants", "materials", "signin_code"]

    def get_participants(self, obj: Meeting) -> list[dict[str, Any]]:
        return list(ParticipantSerializer(self.context.get("participants", []), many=True).data)

    def get_materials(self, obj: Meeting) -> list[dict[str, Any]]:
        return list(MaterialSerializer(self.context.get("materials", []), many=True).data)

    def get_signin_code(self, obj: Meeting) -> str | None:
        """Shown to organisers only (they display it in the meeting room)."""
        return obj.signin_code if self.get_can_manage(obj) else None


class JoinSerializer(serializers.Serializer):
    meeting_id = serializers.IntegerField()
    server = serializers.ListField(child=serializers.CharField())
    room = serializers.IntegerField()
    pin = serializers.CharField()
    token = serializers.CharField()
    display = serializers.CharField()
    participant_id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    ice_servers = serializers.ListField(child=serializers.DictField())


class AttendanceRowSerializer(serializers.Serializer):
    participant_id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    display_name = serializers.CharField()
    unit_name = serializers.CharField()
    role = serializers.CharField()
    via_unit_id = serializers.IntegerField(allow_null=True)
    removed = serializers.BooleanField()
    signed_in_at = serializers.DateTimeField(allow_null=True)
    signin_method = serializers.CharField(allow_blank=True)
    first_joined_at = serializers.DateTimeField(allow_null=True)
    last_left_at = serializers.DateTimeField(allow_null=True)
    in_room = serializers.BooleanField()
    stays = serializers.IntegerField()
    seconds_in_room = serializers.IntegerField()
    present = serializers.BooleanField()


class AttendanceSerializer(serializers.Serializer):
    meeting_id = serializers.IntegerField()
    state = serializers.CharField()
    rows = AttendanceRowSerializer(many=True)


class MinutesSerializer(serializers.Serializer):
    meeting_id = serializers.IntegerField()
    document_id = serializers.IntegerField(allow_null=True)
    doc_type = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_null=True)
