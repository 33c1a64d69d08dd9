"""Serializer base for writes: unknown fields are refused (400 ``unknown_field``) and
JSON values must have the type the schema names (400 ``validation_error``).

Docs: docs/api.md#types-and-validation. A phone sending a field we do not know is a
client bug or a probe; silently dropping it hides both. Likewise DRF on its own takes
``0``/``1``/``"true"`` for a boolean, ``"5"`` or ``5.0`` for an integer and ``5`` for a
string; the OpenAPI schema promises ``true``/``false``, ``5`` and ``"5"``, so a JSON body
is held to exactly that here, once for every write serializer (``json_type_errors``
walks nested serializers, lists and dicts, and refuses unknown fields in nested objects
too). Form and query data (a ``QueryDict``) are strings by nature: ``QuerySerializer``
holds query strings to api/common/params.py's rules instead.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import QueryDict
from rest_framework import serializers

from api.common.errors import ApiError
from api.common.i18n import t

_INTEGER_PKS = (models.AutoField, models.BigAutoField, models.IntegerField)


def _must_be(kind: str) -> list[str]:
    names = {
        "boolean": ("须为 true 或 false。", "Must be true or false."),
        "integer": (
            "须为整数（不带引号、不带小数点）。",
            "Must be an integer (no quotes, no decimals).",
        ),
        "number": ("须为数字（不带引号）。", "Must be a number (no quotes)."),
        "string": ("须为字符串。", "Must be a string."),
        "array": ("须为数组。", "Must be an array."),
        "object": ("须为 JSON 对象。", "Must be a JSON object."),
    }
    zh, en = names[kind]
    return [t(zh, en)]


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integer_pk(field: serializers.RelatedField) -> bool:
    if getattr(field, "pk_field", None) is not None:
        return False
    queryset = getattr(field, "queryset", None)
    model = getattr(queryset, "model", None)
    return model is not None and isinstance(model._meta.pk, _INTEGER_PKS)


def json_type_errors(field: serializers.Field, value: Any) -> Any:
    """The type errors of one JSON ``value`` for ``field`` (None when it has the right
    type). ``null`` is left to DRF's ``allow_null``; values and formats to the field."""
    if value is None or field.read_only:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else _must_be("boolean")
    if isinstance(field, serializers.IntegerField):
        return None if _is_integer(value) else _must_be("integer")
    if isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else _must_be("number")
    if isinstance(field, serializers.ChoiceField):
        strings = all(isinstance(key, str) for key in field.choices)
        if isinstance(field, serializers.MultipleChoiceField):
            if not isinstance(value, list):
                return _must_be("array")
            return (
                None
                if not strings or all(isinstance(v, str) for v in value)
                else _must_be("string")
            )
        return None if not strings or isinstance(value, str) else _must_be("string")
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else _must_be("string")
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        return None if not _integer_pk(field) or _is_integer(value) else _must_be("integer")
    if isinstance(field, serializers.ManyRelatedField):
        if not isinstance(value, list):
            return _must_be("array")
        return _items_errors(field.child_relation, value)
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return _must_be("array")
        return _items_errors(field.child, value)
    if isinstance(field, serializers.ListSerializer):
        if not isinstance(value, list):
            return _must_be("array")
        return _items_errors(field.child, value) if field.child is not None else None
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return _must_be("object")
        errors = {str(k): e for k, v in value.items() if (e := json_type_errors(field.child, v))}
        return errors or None
    if isinstance(field, StrictSerializer | StrictModelSerializer):
        return None  # checks its own fields in to_internal_value
    if isinstance(field, serializers.Serializer):
        if not isinstance(value, dict):
            return _must_be("object")
        errors = _object_errors(field, value)
        writable = {name for name, child in field.fields.items() if not child.read_only}
        for name in sorted(set(value) - writable):
            errors[str(name)] = [t("不允许的字段。", "Unknown field.")]
        return errors or None
    return None


def _items_errors(child: serializers.Field, items: list[Any]) -> Any:
    errors = {str(i): e for i, item in enumerate(items) if (e := json_type_errors(child, item))}
    return errors or None


def _object_errors(serializer: serializers.Serializer, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for name, field in serializer.fields.items():
        if field.source == "*" or name not in data:
            continue
        found = json_type_errors(field, data[name])
        if found:
            errors[name] = found
    return errors


def check_json_types(serializer: serializers.Serializer, data: Any) -> None:
    """Raise 400 ``validation_error`` naming every field whose JSON type is wrong."""
    if isinstance(data, QueryDict) or not isinstance(data, dict):
        return
    errors = _object_errors(serializer, data)
    if errors:
        raise serializers.ValidationError(errors)


def _refuse_non_object(data: Any) -> None:
    if not isinstance(data, dict):
        raise ApiError(
            "validation_error", t("请求体须为 JSON 对象。", "The body must be a JSON object.")
        )


def _query_errors(serializer: serializers.Serializer, data: QueryDict) -> dict[str, Any]:
    """Query strings carry text, so the rule there is api/common/params.py's: a boolean is
    ``true`` or ``false``, and a typed parameter given empty (``?to=``) is an error, not
    absent."""
    errors: dict[str, Any] = {}
    for name, field in serializer.fields.items():
        if name not in data or field.read_only:
            continue
        if len(data.getlist(name)) > 1 and not isinstance(field, serializers.ListField):
            errors[name] = [t("只能给出一次。", "Give it once.")]
            continue
        raw = data.get(name)
        if isinstance(field, serializers.BooleanField):
            if raw not in ("true", "false"):
                errors[name] = _must_be("boolean")
        elif raw == "" and not isinstance(field, serializers.CharField):
            errors[name] = [t("不能为空。", "May not be empty.")]
    return errors


class QuerySerializer(serializers.Serializer):
    """Query parameters read through a serializer (``data=request.query_params``)."""

    def to_internal_value(self, data):
        if isinstance(data, QueryDict):
            errors = _query_errors(self, data)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        _refuse_non_object(data)
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ApiError(
                "unknown_field",
                fields={name: [t("不允许的字段。", "Unknown field.")] for name in unknown},
            )
        check_json_types(self, data)
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    def to_internal_value(self, data):
        _refuse_non_object(data)
        writable = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable)
        if unknown:
            raise ApiError(
                "unknown_field",
                fields={
                    name: [t("不允许的字段。", "Unknown or read-only field.")] for name in unknown
                },
            )
        check_json_types(self, data)
        return super().to_internal_value(data)


def validated_body(serializer_class: type[serializers.Serializer], request: Any) -> dict[str, Any]:
    """The request body read through ``serializer_class``; 400 with the fields otherwise.

    One reader for every action view: the body goes to the serializer as sent (a JSON
    list or string is refused by the strict serializers, never read as an empty object).
    """
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
