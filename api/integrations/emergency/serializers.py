"""Request and response shapes of the emergency API. Docs: docs/integrations.md#emergency."""

from __future__ import annotations

from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer, StrictSerializer
from api.integrations.emergency.models import (
    DutyAssignment,
    EventLevel,
    EventUpdate,
    HandlingRecord,
    HandlingState,
    Shift,
)


class DutyUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DutySerializer(serializers.ModelSerializer):
    unit = DutyUnitRefSerializer()
    officer = PersonRefSerializer()

    class Meta:
        model = DutyAssignment
        fields = ["id", "unit", "day", "shift", "officer"]


class DutyInSerializer(StrictSerializer):
    unit_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    day = serializers.DateField()
    shift = serializers.ChoiceField(choices=Shift.choices)
    officer_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class DutyFilterSerializer(QuerySerializer):
    unit = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a Python keyword
        return fields


class EventUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventUpdate
        fields = ["sequence", "level", "place", "summary", "sent_at", "received_at"]


class HandlingSerializer(serializers.ModelSerializer):
    duty_unit = DutyUnitRefSerializer()
    acknowledged_by = PersonRefSerializer(allow_null=True)
    level = serializers.ChoiceField(choices=EventLevel.choices)
    state = serializers.ChoiceField(choices=HandlingState.choices)

    class Meta:
        model = HandlingRecord
        fields = [
            "id",
            "event_id",
            "sequence",
            "event_type",
            "level",
            "place",
            "occurred_at",
            "summary",
            "duty_unit",
            "state",
            "acknowledged_by",
            "acknowledged_at",
            "created_at",
            "updated_at",
        ]


class HandlingDetailSerializer(HandlingSerializer):
    recipients = PersonRefSerializer(many=True, help_text="the people it was sent to")
    updates = EventUpdateSerializer(
        many=True, help_text="every version the command system sent, in sequence order"
    )

    class Meta(HandlingSerializer.Meta):
        fields = [*HandlingSerializer.Meta.fields, "recipients", "updates"]
