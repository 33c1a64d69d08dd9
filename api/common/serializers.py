"""Serializer base for writes: unknown fields are refused (400 ``unknown_field``).

Docs: docs/api.md#writes. A phone sending a field we do not know is a client bug
or a probe; silently dropping it hides both.
"""

from __future__ import annotations

from rest_framework import serializers

from api.common.errors import ApiError
from api.common.i18n import t


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ApiError(
                "validation_error", t("请求体须为 JSON 对象。", "The body must be a JSON object.")
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ApiError(
                "unknown_field",
                fields={name: [t("不允许的字段。", "Unknown field.")] for name in unknown},
            )
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ApiError(
                "validation_error", t("请求体须为 JSON 对象。", "The body must be a JSON object.")
            )
        writable = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise ApiError(
                "unknown_field",
                fields={
                    name: [t("不允许的字段。", "Unknown or read-only field.")] for name in unknown
                },
            )
        return super().to_internal_value(data)
