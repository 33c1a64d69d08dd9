"""Serializers of api.urging (docs/urging.md#api)."""

from __future__ import annotations

from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import StrictSerializer
from api.urging.models import UrgeKind

MESSAGE_MAX = 200


class UrgeCreateSerializer(StrictSerializer):
    message = serializers.CharField(
        min_length=1,
        max_length=MESSAGE_MAX,
        help_text="1–200 characters, e.g. 请于今天下班前办理。",
    )


class UrgeUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UrgeDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    doc_number = serializers.CharField(allow_blank=True)
    unit_id = serializers.IntegerField()


class UrgeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=UrgeKind.choices,
        help_text="auto_yellow 临期提醒 (75 % of the time used), auto_red 超期催办, "
        "manual 人工催办",
    )
    document = UrgeDocumentSerializer()
    unit = UrgeUnitSerializer(help_text="the urged person's unit when urged")
    urged = PersonRefSerializer(help_text="the task's assignee")
    by = PersonRefSerializer(allow_null=True, help_text="null for automatic urges")
    message = serializers.CharField(allow_blank=True)
    task_round = serializers.IntegerField()
    elapsed_fraction = serializers.FloatField(
        allow_null=True, help_text="working time used ÷ allowed when urged; > 1 = overdue"
    )
    notification_id = serializers.IntegerField(
        allow_null=True, help_text="null when the notification was de-duplicated"
    )
    created_at = serializers.DateTimeField()
