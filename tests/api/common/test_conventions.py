"""API conventions shared by every endpoint (docs/api.md): the error envelope for
each failure class, content negotiation, languages, schema and docs UI."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

TOKEN_URL = "/api/v1/auth/token/"


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.django_db
class TestErrorEnvelope:
    def test_malformed_json(self, client):
        response = client.post(TOKEN_URL, data='{"username": ', content_type="application/json")
        assert_envelope(response, 400, "malformed_json")

    def test_json_that_is_not_an_object(self, client):
        response = client.post(TOKEN_URL, data="[1, 2]", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] in {"validation_error", "bad_request"}

    def test_wrong_content_type(self, client):
        response = client.post(
            TOKEN_URL,
            data="username=a&password=b",
            content_type="application/x-www-form-urlencoded",
        )
        assert_envelope(response, 415, "unsupported_media_type")

    def test_oversized_body(self, client, settings):
        body = '{"username": "' + "x" * (settings.GOVDESK_MAX_BODY_BYTES + 10) + '"}'
        response = client.post(TOKEN_URL, data=body, content_type="application/json")
        assert_envelope(response, 413, "payload_too_large")

    def test_unknown_field_on_write(self, client):
        response = client.post(
            TOKEN_URL,
            data={"username": "nobody", "password": "x", "is_admin": True},
            content_type="application/json",
        )
        error = assert_envelope(response, 400, "unknown_field")
        assert "is_admin" in error["fields"]

    def test_method_not_allowed(self, client):
        assert_envelope(client.delete("/api/v1/health/"), 405, "method_not_allowed")

    def test_not_authenticated(self, client):
        response = client.get("/api/v1/me/")
        assert_envelope(response, 401, "not_authenticated")
        assert response.has_header("WWW-Authenticate")

    def test_garbage_bearer_token(self, client):
        response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer not.a.token")
        assert_envelope(response, 401, "token_invalid")

    def test_unknown_route(self, client):
        assert_envelope(client.get("/api/v1/nothing-here/"), 404, "not_found")
        assert_envelope(client.get("/not-api-at-all/"), 404, "not_found")

    @override_settings(ROOT_URLCONF="tests.api.common.boom_urls")
    def test_unexpected_exception_in_api_view_is_500_envelope(self):
        client = Client(raise_request_exception=False)
        error = assert_envelope(client.get("/boom/api/"), 500, "server_error")
        assert "boom" not in error["message"]

    @override_settings(ROOT_URLCONF="tests.api.common.boom_urls")
    def test_unexpected_exception_outside_drf_is_500_envelope(self):
        client = Client(raise_request_exception=False)
        assert_envelope(client.get("/boom/plain/"), 500, "server_error")


@pytest.mark.django_db
class TestLanguages:
    def test_chinese_by_default(self, client):
        error = client.get("/api/v1/me/").json()["error"]
        assert re.search(r"[\u4e00-\u9fff]", error["message"]), error

    def test_english_on_request(self, client):
        response = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        message = response.json()["error"]["message"]
        assert message.isascii() and "Authentication" in message

    def test_code_is_the_same_in_both_languages(self, client):
        zh = client.get("/api/v1/me/").json()["error"]["code"]
        en = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["code"]
        assert zh == en == "not_authenticated"


@pytest.mark.django_db
class TestSchemaAndDocs:
    def test_openapi_schema_is_served_as_json(self, client):
        response = client.get("/api/schema/?format=json")
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert "/api/v1/health/" in schema["paths"]

    def test_docs_ui_uses_no_cdn(self, client):
        response = client.get("/api/docs/")
        assert response.status_code == 200
        html = response.content.decode()
        external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
        assert external == [], external
        assert "swagger-ui" in html

    def test_schema_generation_has_no_warnings(self):
        from drf_spectacular.drainage import GENERATOR_STATS
        from drf_spectacular.generators import SchemaGenerator

        GENERATOR_STATS.reset()
        SchemaGenerator().get_schema(request=None, public=True)
        assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
        assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
