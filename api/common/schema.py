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


def page_parameters(*, default: int = 50, maximum: int = 200) -> list[OpenApiParameter]:
    """``cursor`` and ``page_size`` of a cursor-paginated list (api/common/pagination.py);
    a size outside 1..maximum is a 400 (api/common/params.py)."""
    return [
        OpenApiParameter("cursor", str, description="the `next` link's cursor"),
        OpenApiParameter(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
            description=f"1–{maximum}, default {default}",
        ),
    ]


# Refusals every operation of a kind can give, from shared code rather than the view:
# the exception handler (400 validation_error for any input), authentication (401), the
# network-zone middleware and the second-factor gate of the default permission class
# (403), the object lookups (404 for an id in the path, a filter or the body, also for
# another unit's object, and for a forged cursor), the body limits and
# parser (413, 415) and the Idempotency-Key middleware (400 invalid key, 409 still
# running, 422 key reused). The hook adds them where a view's own ``responses`` does not
# name them, so the schema lists every status an operation can answer; an endpoint's
# own refusals (403 not_sender, 409, 422 with their codes) are declared on the view with
# ``@extend_schema(responses=...)`` (docs/api.md#types-and-validation).
_SHARED_REFUSALS = {
    400: "validation_error / unknown_field / malformed_json",
    401: "not_authenticated / token_invalid / session_revoked",
    403: "network_not_allowed (outside the intranet and the VPN) / mfa_setup_required",
    404: "not_found — an object named by the path, a filter, the cursor or the body that "
    "does not exist or is outside the caller's scope",
    409: "conflict: a request with this Idempotency-Key is still running",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "idempotency_key_reused",
}
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 8,
    "maxLength": 128,
    "pattern": "^[A-Za-z0-9_:.-]{8,128}$",
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _refusals_of(operation: dict[str, Any]) -> list[int]:
    security = operation.get("security") or []
    parameters = operation.get("parameters") or []
    body = "requestBody" in operation
    idempotent = any(
        p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters
    )
    statuses: list[int] = []
    if parameters or body:
        statuses.append(400)
    if security and {} not in security:
        statuses.append(401)
    statuses.append(403)
    if parameters or body:
        # A path id, a query filter (?unit=), a cursor or a body id naming something the
        # caller may not see is 404, never a hint that it exists.
        statuses.append(404)
    if body:
        statuses += [413, 415]
    if idempotent:
        statuses += [409, 422]
    return statuses


def postprocess_refusals(result, generator, request, public):
    """drf-spectacular hook: shared refusals on every operation, request bodies closed
    (``additionalProperties: false``: the strict serializers refuse unknown fields at every
    level, api/common/serializers.py) and the Idempotency-Key header's format."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters") or []:
                if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                    parameter["schema"] = dict(IDEMPOTENCY_KEY_SCHEMA)
            responses = operation["responses"]
            for status_code in _refusals_of(operation):
                responses.setdefault(
                    str(status_code),
                    {
                        "description": _SHARED_REFUSALS[status_code],
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    },
                )
    return result
