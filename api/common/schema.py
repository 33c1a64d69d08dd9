"""OpenAPI helpers shared by every app: the error envelope's schema and ready-made
error-response groups for ``@extend_schema(responses=...)``. Docs: docs/api.md#errors.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    retry_after = serializers.IntegerField(required=False, help_text="seconds, with 429")
    route = serializers.CharField(
        required=False, help_text="with filed_role: the path to file an appointment request at"
    )

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: a class attribute named "fields" would shadow Serializer.fields.
        fields["fields"] = serializers.DictField(required=False)
        return fields


class ErrorSerializer(serializers.Serializer):
    """The error envelope of docs/api.md#errors."""

    error = ErrorBodySerializer()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


ERR_400 = {400: error_response("validation_error / unknown_field / malformed_json")}
ERR_401 = {401: error_response("not_authenticated / token_invalid / session_revoked")}
ERR_403 = {403: error_response("permission_denied and the codes named on the endpoint")}
ERR_404 = {404: error_response("not_found — also for objects outside the caller's scope")}
ERR_409 = {409: error_response("conflict")}
ERR_422 = {422: error_response("a domain rule refused the request; see the code")}


def errors(*groups: dict[int, Any]) -> dict[int, Any]:
    """401 plus the given groups, for authenticated endpoints."""
    merged: dict[int, Any] = {}
    for group in (ERR_401, *groups):
        merged.update(group)
    return merged


# Every POST that changes state accepts it (api/common/idempotency.py).
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response with "
    "`Idempotent-Replayed: true`; the same key with another body is 422 "
    "idempotency_key_reused; a repeat while the first still runs is 409 conflict.",
)
