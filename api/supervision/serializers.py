"""Request and response shapes of the supervision API. Docs: docs/supervision.md#api."""

from __future__ import annotations

from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer, StrictSerializer
from api.supervision.models import (
    ItemState,
    Light,
    Milestone,
    ProgressReport,
    Source,
    SupervisedItem,
    Urge,
)


class MilestoneInSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    due = serializers.DateTimeField()


class ItemCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    owner_unit_id = serializers.IntegerField(min_value=1)
    deadline = serializers.DateTimeField()
    document_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    instruction = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    milestones = MilestoneInSerializer(many=True, required=False)

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: a class attribute "source" would shadow Field.source.
        fields["source"] = serializers.ChoiceField(choices=Source.choices)
        return fields


class ProgressInSerializer(StrictSerializer):
    text = serializers.CharField(max_length=4000)
    percent = serializers.IntegerField(min_value=0, max_value=100)


class UrgeInSerializer(StrictSerializer):
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)


class CloseInSerializer(StrictSerializer):
    result = serializers.CharField(max_length=4000)


class EmptySerializer(StrictSerializer):
    pass


class ItemFilterSerializer(QuerySerializer):
    light = serializers.ChoiceField(choices=Light.choices, required=False)
    state = serializers.ChoiceField(choices=ItemState.choices, required=False)
    unit = serializers.IntegerField(min_value=1, required=False)


class SupervisionUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SupervisionMilestoneSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = ["id", "title", "due", "done_at", "overdue"]

    def get_overdue(self, obj: Milestone) -> bool:
        now = self.context.get("now")
        return bool(obj.done_at is None and now is not None and now > obj.due)


class SupervisedItemSerializer(serializers.ModelSerializer):
    owner_unit = SupervisionUnitRefSerializer()
    created_by = PersonRefSerializer()
    closed_by = PersonRefSerializer(allow_null=True)
    light = serializers.SerializerMethodField()
    milestones = SupervisionMilestoneSerializer(many=True)

    class Meta:
        model = SupervisedItem
        fields = [
            "id",
            "title",
            "source",
            "document_id",
            "instruction",
            "owner_unit",
            "created_by",
            "created_at",
            "deadline",
            "state",
            "progress",
            "light",
            "light_updated_at",
            "escalations",
            "result",
            "closed_at",
            "closed_by",
            "milestones",
        ]

    def get_light(self, obj: SupervisedItem) -> str | None:
        """Closed items have no light."""
        return obj.light if obj.state == ItemState.OPEN else None


class SupervisionProgressSerializer(serializers.ModelSerializer):
    by = PersonRefSerializer()

    class Meta:
        model = ProgressReport
        fields = ["id", "by", "text", "percent", "created_at"]


class SupervisionUrgeSerializer(serializers.ModelSerializer):
    by = PersonRefSerializer()
    recipients = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = Urge
        fields = ["id", "by", "message", "recipients", "created_at"]
