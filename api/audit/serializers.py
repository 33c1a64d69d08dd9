"""Serializers of the audit API (read-only). Docs: docs/audit.md#supervisor-api."""

from __future__ import annotations

from rest_framework import serializers

from api.audit.models import AuditEvent, AuditResult
from api.audit.selectors import MAX_BIGINT, EventFilter
from api.common.i18n import t
from api.common.serializers import QuerySerializer


class AuditEventSerializer(serializers.ModelSerializer):
    detail = serializers.DictField(read_only=True, help_text="Small JSON object; per action")
    source_address = serializers.IPAddressField(
        read_only=True, allow_null=True, help_text="Client address decided by the zone policy"
    )

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor_id",
            "actor_username",
            "on_behalf_of_id",
            "on_behalf_of_username",
            "action",
            "object_type",
            "object_id",
            "unit_id",
            "source_address",
            "result",
            "detail",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditEventFilterSerializer(QuerySerializer):
    """Query parameters of GET /api/v1/audit/events/ (all optional)."""

    actor = serializers.CharField(required=False, max_length=64, help_text="Actor's username")
    action = serializers.CharField(required=False, max_length=64, help_text="Exact action name")
    action_prefix = serializers.CharField(
        required=False, max_length=64, help_text="Action names starting with this, e.g. 'auth.'"
    )
    object_type = serializers.CharField(
        required=False, max_length=64, help_text="e.g. accounts.unit"
    )
    object_id = serializers.CharField(required=False, max_length=64)
    unit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    subtree = serializers.BooleanField(
        required=False, default=False, help_text="With unit: include every unit under it"
    )
    result = serializers.ChoiceField(required=False, choices=AuditResult.choices)

    def get_fields(self):
        # "from" and "to" are Python keywords, so they cannot be declared as attributes.
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False, help_text="occurred_at >= this")
        fields["to"] = serializers.DateTimeField(required=False, help_text="occurred_at < this")
        return fields

    def validate(self, attrs):
        if attrs.get("subtree") and attrs.get("unit") is None:
            raise serializers.ValidationError(
                {"subtree": [t("须同时指定 unit。", "subtree needs unit.")]}
            )
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and start >= end:
            raise serializers.ValidationError(
                {"to": [t("须晚于 from。", "to must be later than from.")]}
            )
        return attrs

    def to_filter(self) -> EventFilter:
        data = dict(self.validated_data)
        return EventFilter(
            occurred_from=data.pop("from", None), occurred_to=data.pop("to", None), **data
        )


class AuditErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)  # type: ignore[assignment]


class AuditErrorSerializer(serializers.Serializer):
    """The error envelope of docs/api.md#errors."""

    error = AuditErrorBodySerializer()
