"""Request and response shapes of the video API. Docs: docs/integrations.md#video-api."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.accounts.models import Role
from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer, StrictSerializer
from api.integrations.video.models import Camera, CameraGrant, CameraType, ViewSession


class LocationSerializer(serializers.Serializer):
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    address = serializers.CharField()


class CameraUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CameraSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(source="camera_type", choices=CameraType.choices)
    type_name = serializers.CharField(source="get_camera_type_display")
    location = serializers.SerializerMethodField()
    owner_unit = serializers.SerializerMethodField()
    retired = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = [
            "id", "source_id", "name", "type", "type_name", "location", "owner_code",
            "owner_unit", "online", "retired", "retired_at", "synced_at",
        ]  # fmt: skip

    @extend_schema_field(LocationSerializer)
    def get_location(self, obj: Camera) -> dict[str, Any]:
        return {
            "lat": float(obj.latitude) if obj.latitude is not None else None,
            "lng": float(obj.longitude) if obj.longitude is not None else None,
            "address": obj.address,
        }

    @extend_schema_field(CameraUnitSerializer(allow_null=True))
    def get_owner_unit(self, obj: Camera) -> dict[str, Any] | None:
        unit = obj.owner_unit
        return {"id": unit.pk, "name": unit.name} if unit is not None else None

    def get_retired(self, obj: Camera) -> bool:
        return obj.retired_at is not None


class CameraFilterSerializer(QuerySerializer):
    type = serializers.ChoiceField(choices=CameraType.choices, required=False)


class PlaySerializer(serializers.Serializer):
    view_id = serializers.IntegerField(help_text="report heartbeats and the end to this view")
    url = serializers.URLField(help_text="the platform's signed HLS playlist URL")
    expires_at = serializers.DateTimeField(help_text="the URL is refused after this")
    heartbeat_seconds = serializers.IntegerField()


class ViewSessionSerializer(serializers.ModelSerializer):
    viewer = PersonRefSerializer()
    camera_name = serializers.CharField(source="camera.name")
    duration_seconds = serializers.IntegerField()

    class Meta:
        model = ViewSession
        fields = [
            "id", "camera_id", "camera_name", "viewer", "started_at", "last_seen_at",
            "ended_at", "duration_seconds",
        ]  # fmt: skip


class EmptySerializer(StrictSerializer):
    pass


class GrantCreateSerializer(StrictSerializer):
    grantee_unit_id = serializers.IntegerField(min_value=1)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    camera_type = serializers.ChoiceField(choices=CameraType.choices, required=False)
    owner_unit_id = serializers.IntegerField(
        min_value=1, required=False, help_text="omit for every owner (city IT admin only)"
    )


class GrantSerializer(serializers.ModelSerializer):
    grantee_unit = CameraUnitSerializer()
    owner_unit = CameraUnitSerializer(allow_null=True)
    created_by = PersonRefSerializer()
    revoked_by = PersonRefSerializer(allow_null=True)

    class Meta:
        model = CameraGrant
        fields = [
            "id", "grantee_unit", "role", "camera_type", "owner_unit", "created_by",
            "created_at", "revoked_at", "revoked_by",
        ]  # fmt: skip
