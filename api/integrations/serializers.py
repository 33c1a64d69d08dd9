"""Response shapes of the connector layer's API. Docs: docs/integrations.md#api."""

from __future__ import annotations

from rest_framework import serializers

from api.integrations.models import ReceivedRecord


class ConnectorHealthSerializer(serializers.Serializer):
    """One connector in /api/v1/health/ (no token there: nothing more)."""

    name = serializers.CharField()
    configured = serializers.BooleanField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    lag_seconds = serializers.IntegerField(min_value=0)
    error_count = serializers.IntegerField(min_value=0)
    dead_letters = serializers.IntegerField(min_value=0)


class ConnectorSerializer(ConnectorHealthSerializer):
    """One connector for the city IT admin."""

    title = serializers.CharField()
    inbound = serializers.BooleanField(help_text="accepts signed webhooks")
    outbound = serializers.BooleanField(help_text="pulls on a schedule")
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_pull_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    pending = serializers.IntegerField(min_value=0)


class ConnectorListSerializer(serializers.Serializer):
    results = ConnectorSerializer(many=True)


class ReceivedRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    connector = serializers.CharField()
    source_id = serializers.CharField()
    via = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "done", "dead"])
    attempts = serializers.IntegerField(min_value=0)
    replays = serializers.IntegerField(min_value=0)
    last_error = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()
    dead_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.DictField(help_text="the record as the external system sent it")


class ReceivedRecordPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ReceivedRecordSerializer(many=True)


class WebhookResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(min_value=0, help_text="events in the request")
    new = serializers.IntegerField(min_value=0, help_text="events not seen before")


def record_data(stored: ReceivedRecord) -> dict:
    return {
        "id": stored.pk,
        "connector": stored.connector,
        "source_id": stored.source_id,
        "via": stored.via,
        "state": stored.state,
        "attempts": stored.attempts,
        "replays": stored.replays,
        "last_error": stored.last_error,
        "received_at": stored.received_at,
        "dead_at": stored.dead_at,
        "next_attempt_at": stored.next_attempt_at,
        "payload": stored.payload,
    }
