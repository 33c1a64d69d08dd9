"""Request and response shapes of the base data API. Docs: docs/integrations.md#base-data."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import QuerySerializer, StrictSerializer
from api.integrations.basedata.models import (
    PERSONAL_KINDS,
    AccessLevel,
    AccessRequest,
    BaseDatabase,
    FieldKind,
    ParameterType,
    QueryLog,
    QueryOutcome,
    RequestStatus,
)
from api.integrations.basedata.selectors import today


class BaseDataUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DatasetFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=FieldKind.choices)
    personal = serializers.SerializerMethodField(help_text="masked unless the grant is unmasked")

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: "label" as a class attribute would shadow Field.label.
        fields["label"] = serializers.CharField(help_text="the column's Chinese name")
        return fields

    def get_personal(self, obj: dict[str, Any]) -> bool:
        return obj["kind"] in PERSONAL_KINDS


class DatasetParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=ParameterType.choices)
    kind = serializers.CharField(help_text="a FieldKind when the value is personal, else empty")

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: class attributes would shadow Field.label and Field.required.
        fields["label"] = serializers.CharField()
        fields["required"] = serializers.BooleanField()
        return fields


class GrantRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    access_level = serializers.ChoiceField(choices=AccessLevel.choices)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class DatasetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source_id = serializers.CharField(help_text="the base-data platform's dataset id")
    database = serializers.ChoiceField(choices=BaseDatabase.choices)
    database_label = serializers.CharField(source="get_database_display")
    name = serializers.CharField()
    description = serializers.CharField()
    owner_unit = BaseDataUnitRefSerializer(help_text="the data owner (数据责任单位)")
    parameters = DatasetParameterSerializer(many=True)
    version = serializers.IntegerField()
    active = serializers.BooleanField()
    synced_at = serializers.DateTimeField()
    my_grant = serializers.SerializerMethodField(
        help_text="the caller's grant in force today, or null"
    )

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: a class attribute named "fields" would shadow Serializer.fields.
        fields["fields"] = DatasetFieldSerializer(many=True)
        return fields

    @extend_schema_field(GrantRefSerializer(allow_null=True))
    def get_my_grant(self, obj: Any) -> dict[str, Any] | None:
        grant = self.context.get("grants", {}).get(obj.pk)
        return GrantRefSerializer(grant).data if grant is not None else None


class DatasetFilterSerializer(QuerySerializer):
    database = serializers.ChoiceField(choices=BaseDatabase.choices, required=False)
    # A QueryDict reads a missing boolean as false: None keeps "not given" apart.
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class AccessRequestInSerializer(StrictSerializer):
    dataset_id = serializers.IntegerField(min_value=1)
    purpose = serializers.CharField(max_length=2000)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    access_level = serializers.ChoiceField(
        choices=AccessLevel.choices, required=False, default=AccessLevel.MASKED
    )


class ApproveInSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class RefuseInSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class DatasetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source_id = serializers.CharField()
    name = serializers.CharField()
    database = serializers.ChoiceField(choices=BaseDatabase.choices)


class AccessRequestSerializer(serializers.ModelSerializer):
    dataset = DatasetRefSerializer()
    requester = PersonRefSerializer()
    unit = BaseDataUnitRefSerializer()
    decided_by = PersonRefSerializer(allow_null=True)
    in_force = serializers.SerializerMethodField(help_text="approved and its period covers today")

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "dataset",
            "requester",
            "unit",
            "purpose",
            "access_level",
            "starts_on",
            "ends_on",
            "status",
            "in_force",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]

    def get_in_force(self, obj: AccessRequest) -> bool:
        return obj.status == RequestStatus.APPROVED and obj.starts_on <= today() <= obj.ends_on


class RequestFilterSerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=RequestStatus.choices, required=False)
    dataset = serializers.IntegerField(min_value=1, required=False)
    scope = serializers.ChoiceField(
        choices=[("mine", "mine"), ("to_decide", "to_decide")], required=False
    )


class QueryInSerializer(StrictSerializer):
    parameters = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)
    limit = serializers.IntegerField(min_value=1, required=False)


class QueryResultSerializer(serializers.Serializer):
    query_id = serializers.IntegerField(help_text="the query log entry")
    dataset = DatasetRefSerializer()
    access_level = serializers.ChoiceField(choices=AccessLevel.choices)
    rows = serializers.ListField(child=serializers.DictField(child=serializers.JSONField()))
    rows_returned = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="the platform had more rows than returned")

    def get_fields(self):
        fields = super().get_fields()
        fields["fields"] = DatasetFieldSerializer(many=True, help_text="the columns, in order")
        return fields


class QueryLogSerializer(serializers.ModelSerializer):
    dataset = DatasetRefSerializer()
    user = PersonRefSerializer()
    unit = BaseDataUnitRefSerializer(allow_null=True)
    outcome = serializers.ChoiceField(choices=QueryOutcome.choices)
    parameters = serializers.DictField(child=serializers.JSONField())

    class Meta:
        model = QueryLog
        fields = [
            "id",
            "dataset",
            "user",
            "unit",
            "grant_id",
            "parameters",
            "access_level",
            "outcome",
            "code",
            "rows_returned",
            "truncated",
            "queried_at",
        ]


class QueryLogFilterSerializer(QuerySerializer):
    dataset = serializers.IntegerField(min_value=1, required=False)
    outcome = serializers.ChoiceField(choices=QueryOutcome.choices, required=False)
