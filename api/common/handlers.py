"""Django-level error handlers: the same envelope outside DRF views (docs/api.md#errors)."""

from __future__ import annotations

from api.common.errors import error_response


def bad_request(request, exception=None):
    return error_response(400, "bad_request")


def permission_denied(request, exception=None):
    return error_response(403, "permission_denied")


def not_found(request, exception=None):
    return error_response(404, "not_found")


def server_error(request):
    return error_response(500, "server_error")
