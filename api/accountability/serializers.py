"""Request and response shapes of the accountability API.

Docs: docs/accountability.md#api.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.accountability.models import AccountabilityCase, CaseStatus, OutcomeKind, SourceKind
from api.accountability.sources import STAT_COMPONENTS
from api.common.i18n import t
from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer, StrictSerializer


class StatisticSourceSerializer(StrictSerializer):
    unit_id = serializers.IntegerField(min_value=1)
    to = serializers.DateField()
    component = serializers.ChoiceField(
        choices=STAT_COMPONENTS, help_text="the figure: overdue, open_overdue, returned, slow"
    )

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a keyword in Python: declared here.
        fields["from"] = serializers.DateField()
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, dict):  # reported under "statistic", not as a bare 400
            raise serializers.ValidationError(
                t("须为 JSON 对象。", "Must be a JSON object."), code="invalid"
            )
        return super().to_internal_value(data)


class CaseOpenSerializer(StrictSerializer):
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    reason = serializers.CharField(max_length=4000)
    supervised_item_id = serializers.IntegerField(min_value=1, required=False)
    document_id = serializers.IntegerField(min_value=1, required=False)
    statistic = StatisticSourceSerializer(required=False)


class FindingsInSerializer(StrictSerializer):
    findings = serializers.CharField(max_length=8000)


class DecideInSerializer(StrictSerializer):
    outcome_kind = serializers.ChoiceField(choices=OutcomeKind.choices)
    outcome_text = serializers.CharField(max_length=8000)


class CaseFilterSerializer(QuerySerializer):
    unit = serializers.IntegerField(min_value=1, required=False)
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    source_kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields


class AccountabilityUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseSerializer(serializers.ModelSerializer):
    unit = AccountabilityUnitRefSerializer()
    opened_by = PersonRefSerializer()
    findings_by = PersonRefSerializer(allow_null=True)
    decided_by = PersonRefSerializer(allow_null=True)
    outcome_kind = serializers.SerializerMethodField()
    outcome_label = serializers.SerializerMethodField()
    linked = serializers.JSONField(
        help_text="snapshot of the records the case was opened from, taken at opening"
    )

    class Meta:
        model = AccountabilityCase
        fields = [
            "id",
            "unit",
            "source_kind",
            "supervised_item_id",
            "document_id",
            "title",
            "reason",
            "linked",
            "status",
            "opened_by",
            "opened_at",
            "findings",
            "findings_by",
            "findings_at",
            "outcome_kind",
            "outcome_label",
            "outcome_text",
            "decided_by",
            "decided_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=OutcomeKind.choices, allow_null=True))
    def get_outcome_kind(self, obj: AccountabilityCase) -> Any:
        return obj.outcome_kind or None

    def get_outcome_label(self, obj: AccountabilityCase) -> str | None:
        return OutcomeKind(obj.outcome_kind).label if obj.outcome_kind else None


class UnitCasesSerializer(serializers.Serializer):
    """A unit's cases in the statistics' unit rows (api/stats/contributions.py)."""

    opened = serializers.IntegerField(help_text="cases about the unit opened in the period")
    pending = serializers.IntegerField(help_text="of those, not yet decided")
    decided = serializers.IntegerField(help_text="of those, decided")
    no_action = serializers.IntegerField(help_text="decided: 不予问责")
    reminder_talk = serializers.IntegerField(help_text="decided: 提醒谈话")
    circulated_criticism = serializers.IntegerField(help_text="decided: 通报批评")
    admonition_talk = serializers.IntegerField(help_text="decided: 诫勉谈话")
    referred_to_discipline = serializers.IntegerField(help_text="decided: 移送纪委（监察局）")
    cases = serializers.CharField(help_text="URL listing the cases")
