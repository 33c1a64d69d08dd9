"""Response shapes of the city management API. Docs: docs/integrations.md#city-management."""

from __future__ import annotations

from rest_framework import serializers

from api.integrations.citymgmt.models import CaseState


class StateCountSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CaseState.choices)
    count = serializers.IntegerField()


class CategoryRowSerializer(serializers.Serializer):
    category = serializers.CharField()
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="open and past the deadline")


class DistrictRowSerializer(serializers.Serializer):
    district = serializers.CharField()
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="open and past the deadline")


class StatsSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    total = serializers.IntegerField()
    open = serializers.IntegerField(help_text="not closed or cancelled")
    overdue = serializers.IntegerField(help_text="open and past the deadline")
    closed = serializers.IntegerField()
    closed_late = serializers.IntegerField(help_text="closed after the deadline")
    by_state = StateCountSerializer(many=True)
    by_category = CategoryRowSerializer(many=True, help_text="most open cases first")
    by_district = DistrictRowSerializer(many=True, help_text="most open cases first")
