"""Strict input types (docs/api.md#types-and-validation): a JSON body's values and the
query string's parameters have exactly the type the schema names, or the request is a
400 ``validation_error`` naming the field; every request body's serializer is strict."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from api.common.serializers import (
    QuerySerializer,
    StrictModelSerializer,
    StrictSerializer,
)
from tests.personas import client_for

PREFERENCES = "/api/v1/me/notification-preferences/"


class Item(serializers.Serializer):
    label = serializers.CharField()


class Body(StrictSerializer):
    flag = serializers.BooleanField(required=False)
    count = serializers.IntegerField(required=False)
    ratio = serializers.FloatField(required=False)
    name = serializers.CharField(required=False)
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    item = Item(required=False)
    items = Item(many=True, required=False)
    maybe = serializers.IntegerField(required=False, allow_null=True)


def errors_of(data):
    serializer = Body(data=data)
    assert not serializer.is_valid()
    return serializer.errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("flag", 0),
        ("flag", 1),
        ("flag", "true"),
        ("count", "5"),
        ("count", 5.0),
        ("count", True),
        ("ratio", "0.5"),
        ("ratio", False),
        ("name", 5),
        ("name", False),
        ("kind", 1),
        ("ids", "1,2"),
        ("item", "label"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(field, value):
    assert field in errors_of({field: value})


def test_nested_values_are_checked_where_they_are():
    errors = errors_of({"ids": [1, "2"], "items": [{"label": "x"}, {"label": 3}]})
    assert set(errors["ids"]) == {"1"}
    assert set(errors["items"]) == {"1"}
    assert "label" in errors["items"]["1"]


def test_unknown_fields_of_a_nested_object_are_refused():
    assert "extra" in errors_of({"item": {"label": "x", "extra": 1}})["item"]


def test_the_right_types_pass():
    serializer = Body(
        data={
            "flag": False,
            "count": 0,
            "ratio": 1,
            "name": "x",
            "kind": "a",
            "ids": [1, 2],
            "item": {"label": "x"},
            "items": [{"label": "y"}],
            "maybe": None,
        }
    )
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["flag"] is False


def test_form_data_keeps_its_string_values():
    form = QueryDict("flag=true&count=5&name=x")
    serializer = Body(data=form)
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["count"] == 5


class Query(QuerySerializer):
    on = serializers.BooleanField(required=False)
    day = serializers.DateField(required=False)
    text = serializers.CharField(required=False, allow_blank=True)


@pytest.mark.parametrize("query", ["on=1", "on=yes", "on=True", "on=", "day=", "on=true&on=false"])
def test_query_serializers_refuse_loose_values(query):
    serializer = Query(data=QueryDict(query))
    assert not serializer.is_valid()


@pytest.mark.parametrize("query", ["on=true", "on=false", "day=2026-12-07", "text="])
def test_query_serializers_take_their_values(query):
    serializer = Query(data=QueryDict(query))
    assert serializer.is_valid(), serializer.errors


@pytest.mark.django_db
class TestOverHttp:
    @pytest.mark.parametrize("value", [0, 1, "true", None])
    def test_a_boolean_is_true_or_false(self, personas, value):
        response = client_for(personas["bob"]).patch(
            PREFERENCES, {"push_enabled": value}, format="json"
        )
        assert response.status_code == 400, response.content
        body = response.json()["error"]
        assert body["code"] == "validation_error"
        assert "push_enabled" in body["fields"]

    def test_a_real_boolean_is_taken(self, personas):
        response = client_for(personas["bob"]).patch(
            PREFERENCES, {"push_enabled": False}, format="json"
        )
        assert response.status_code == 200, response.content

    def test_the_refusal_speaks_the_callers_language(self, personas):
        client = client_for(personas["bob"])
        response = client.patch(
            PREFERENCES, {"push_enabled": 1}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.json()["error"]["fields"]["push_enabled"] == ["Must be true or false."]
        response = client.patch(
            PREFERENCES, {"push_enabled": 1}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        assert response.json()["error"]["fields"]["push_enabled"] == ["须为 true 或 false。"]

    @pytest.mark.parametrize("size", ["null", "abc", "0", "201", "-1", "1.5", ""])
    def test_a_bad_page_size_is_400_not_the_default(self, personas, size):
        response = client_for(personas["ivy"]).get("/api/v1/appointments/", {"page_size": size})
        assert response.status_code == 400, response.content
        body = response.json()["error"]
        assert body["code"] == "validation_error"
        assert "page_size" in body["fields"]

    def test_a_parameter_given_twice_is_refused(self, personas):
        client = client_for(personas["ivy"])
        response = client.get("/api/v1/appointments/?page_size=5&page_size=6")
        assert response.status_code == 400, response.content
        assert "page_size" in response.json()["error"]["fields"]

    @pytest.mark.parametrize("key", ["", "short", " padded-key-1 "])
    def test_a_malformed_idempotency_key_is_refused(self, personas, key):
        response = client_for(personas["bob"]).post(
            "/api/v1/notes/", {"body": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_idempotency_key"

    def test_a_good_page_size_is_served(self, personas):
        response = client_for(personas["ivy"]).get("/api/v1/appointments/", {"page_size": "200"})
        assert response.status_code == 200, response.content

    @pytest.mark.parametrize("size", ["0", "101", "null"])
    def test_the_task_list_holds_its_own_bounds(self, personas, size):
        response = client_for(personas["bob"]).get("/api/v1/tasks/", {"page_size": size})
        assert response.status_code == 400, response.content

    @pytest.mark.parametrize("value", ["1", "yes", ""])
    def test_a_boolean_query_parameter_is_true_or_false(self, personas, value):
        response = client_for(personas["bob"]).get("/api/v1/documents/", {"mine": value})
        assert response.status_code == 400, response.content
        assert "mine" in response.json()["error"]["fields"]


def _request_serializers():
    generator = SchemaGenerator()
    generator.get_schema(public=True)
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        if method in ("GET", "HEAD", "OPTIONS", "DELETE"):
            continue
        found = view.schema.get_request_serializer()
        if isinstance(found, serializers.ListSerializer):
            found = found.child
        if found is None or isinstance(found, dict):
            continue  # no body, or a multipart upload described inline
        cls = found if isinstance(found, type) else type(found)
        yield f"{method} {path}", cls


def test_every_request_body_is_read_by_a_strict_serializer():
    loose = [
        f"{operation}: {cls.__module__}.{cls.__name__}"
        for operation, cls in _request_serializers()
        if not issubclass(cls, StrictSerializer | StrictModelSerializer)
    ]
    assert not loose


def test_request_bodies_are_closed_and_shared_refusals_documented():
    schema = SchemaGenerator().get_schema(public=True)
    requests = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request") and component.get("type") == "object"
    }
    assert requests
    assert all(c.get("additionalProperties") is False for c in requests.values())
    withdraw = schema["paths"]["/api/v1/documents/{id}/withdraw/"]["post"]["responses"]
    countersign = schema["paths"]["/api/v1/tasks/{id}/add-countersigner/"]["post"]["responses"]
    for responses in (withdraw, countersign):
        assert {"400", "401", "403", "404", "409", "422"} <= set(responses)
        assert "not_sender" in responses["403"]["description"]
    submit = schema["paths"]["/api/v1/documents/{id}/submit/"]["post"]["responses"]
    assert "not_drafter" in submit["403"]["description"]
