"""Serializers of the e-supervision API (read-only rows). Docs:
docs/integrations.md#e-supervision."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.common.serializers import QuerySerializer
from api.integrations.esupervision.models import STAGES, TIMED_STAGES, Level, Stage


class PeriodQuerySerializer(QuerySerializer):
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here.
        fields["from"] = serializers.DateField(required=False)
        return fields


class ESupervisionUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AverageDaysSerializer(serializers.Serializer):
    accept = serializers.FloatField(allow_null=True, help_text="受理, working days")
    handle = serializers.FloatField(allow_null=True, help_text="承办, working days")
    review = serializers.FloatField(allow_null=True, help_text="审核, working days")
    approve = serializers.FloatField(allow_null=True, help_text="批准, working days")
    total = serializers.FloatField(allow_null=True, help_text="acceptance to completion")


class UnitFiguresSerializer(serializers.Serializer):
    items = serializers.IntegerField(help_text="completed (办结) in the period")
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="null without items")
    average_days = AverageDaysSerializer()
    open = serializers.IntegerField(help_text="open now")
    open_over_limit = serializers.IntegerField(help_text="open now and over the limit")


class UnitRowSerializer(UnitFiguresSerializer):
    unit = ESupervisionUnitRefSerializer()
    # "from" is a keyword: declared in get_fields.
    to = serializers.DateField()
    alerts_notice = serializers.IntegerField(help_text="预警 raised in the period")
    alerts_yellow = serializers.IntegerField(help_text="黄牌 raised in the period")
    alerts_red = serializers.IntegerField(help_text="红牌 raised in the period")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


class ItemQuerySerializer(QuerySerializer):
    state = serializers.ChoiceField(choices=["open", "completed"], required=False)


class ItemAlertSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    raised_at = serializers.DateTimeField()
    supervised_item_id = serializers.IntegerField(allow_null=True)


class StageSecondsSerializer(serializers.Serializer):
    accept = serializers.IntegerField(allow_null=True)
    handle = serializers.IntegerField(allow_null=True)
    review = serializers.IntegerField(allow_null=True)
    approve = serializers.IntegerField(allow_null=True)


class StageTimesSerializer(serializers.Serializer):
    accept = serializers.DateTimeField(allow_null=True)
    handle = serializers.DateTimeField(allow_null=True)
    review = serializers.DateTimeField(allow_null=True)
    approve = serializers.DateTimeField(allow_null=True)
    complete = serializers.DateTimeField(allow_null=True)


class ServiceItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.CharField(source="external_id")
    service_name = serializers.CharField()
    unit_code = serializers.CharField()
    limit_days = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=Stage.choices, help_text="the furthest stage reached")
    times = serializers.SerializerMethodField()
    stage_seconds = serializers.SerializerMethodField(help_text="working seconds per stage")
    due_at = serializers.DateTimeField(allow_null=True)
    used_seconds = serializers.IntegerField(help_text="working seconds used against the limit")
    on_time = serializers.BooleanField(allow_null=True)
    level = serializers.ChoiceField(
        choices=Level.choices, allow_blank=True, help_text="the highest alert; empty: none"
    )
    alerts = ItemAlertSerializer(many=True)

    @extend_schema_field(StageTimesSerializer)
    def get_times(self, item) -> dict:
        return {stage: item.stage_at(stage) for stage in STAGES}

    @extend_schema_field(StageSecondsSerializer)
    def get_stage_seconds(self, item) -> dict:
        return {stage: getattr(item, f"{stage}_seconds") for stage in TIMED_STAGES}
