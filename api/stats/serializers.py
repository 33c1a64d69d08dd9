"""Shapes of the statistics API (for OpenAPI and the PWA's charts).

Docs: docs/supervision.md#statistics-api. The views build plain dicts (the figures
come from aggregate queries); these serializers describe them.
"""

from __future__ import annotations

from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer
from api.stats import contributions
from api.stats.compute import COMPONENTS, LIST_COMPONENTS


class PeriodQuerySerializer(QuerySerializer):
    # "from" is a keyword in Python: declared in get_fields.
    to = serializers.DateField(required=False)
    unit = serializers.IntegerField(required=False, min_value=1)
    component = serializers.ChoiceField(choices=LIST_COMPONENTS, required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields


class FiguresSerializer(serializers.Serializer):
    items = serializers.IntegerField(help_text="tasks handled in the period")
    median_hours = serializers.FloatField(allow_null=True, help_text="working hours")
    p90_hours = serializers.FloatField(allow_null=True, help_text="working hours")
    overdue = serializers.IntegerField(help_text="handled late + still open past due")
    open_overdue = serializers.IntegerField(help_text="still open, due in the period, passed")
    overdue_rate = serializers.FloatField(allow_null=True)
    returned = serializers.IntegerField()
    return_rate = serializers.FloatField(allow_null=True)
    slow = serializers.IntegerField()
    slow_rate = serializers.FloatField(allow_null=True)


class StatsUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ComponentSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=COMPONENTS)
    weight = serializers.IntegerField()
    count = serializers.IntegerField()
    base = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    deduction = serializers.FloatField(allow_null=True, help_text="weight × rate, points")
    tasks = serializers.CharField(help_text="URL listing the tasks behind this component")

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: a class attribute "label" would shadow Field.label.
        fields["label"] = serializers.CharField()
        return fields


class ContributedComponentSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="the contribution's key, e.g. esupervision")
    weight = serializers.IntegerField()
    count = serializers.IntegerField()
    base = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    deduction = serializers.FloatField(allow_null=True, help_text="weight × rate, points")


class DocumentFiguresSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="documents whose flow completed in the period")
    on_time = serializers.IntegerField(help_text="completed by their overall due time")
    late = serializers.IntegerField(help_text="completed after their overall due time")
    late_hours_total = serializers.FloatField(help_text="working hours late, summed")
    late_hours_max = serializers.FloatField(allow_null=True, help_text="the latest, hours")
    open_overdue = serializers.IntegerField(
        help_text="still running past an overall due time inside the period"
    )


class UnitStatsSerializer(FiguresSerializer):
    unit = StatsUnitRefSerializer()
    documents = DocumentFiguresSerializer(
        help_text="the unit's own documents against their overall time limit (限时办结)"
    )
    to = serializers.DateField()
    score = serializers.FloatField(allow_null=True)
    formula = serializers.CharField()
    components = ComponentSerializer(many=True)
    contributed_components = ContributedComponentSerializer(
        many=True, help_text="deductions of contributed figures (api/stats/contributions.py)"
    )
    handled_tasks = serializers.CharField(help_text="URL listing the handled tasks")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        # Figures registered by apps above stats (api/stats/contributions.py).
        for contribution in contributions.registered():
            fields[contribution.key] = contribution.serializer(help_text=contribution.help_text)
        return fields


class PersonStatsSerializer(FiguresSerializer):
    person = PersonRefSerializer()


class StepStatsSerializer(FiguresSerializer):
    step_kind = serializers.CharField()
    step_label = serializers.CharField()


class StepStatsListSerializer(serializers.Serializer):
    unit = StatsUnitRefSerializer()
    to = serializers.DateField()
    results = StepStatsSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


class StatTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    document_title = serializers.CharField()
    step_kind = serializers.CharField()
    step_name = serializers.CharField()
    person = PersonRefSerializer()
    acted_by = PersonRefSerializer(allow_null=True, help_text="the backup who acted for A")
    state = serializers.CharField()
    action = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    acted_at = serializers.DateTimeField(allow_null=True)
    working_seconds = serializers.IntegerField(allow_null=True)
    working_hours = serializers.FloatField(allow_null=True)
