"""Request-level guards: body size and the request context.

Docs: docs/api.md#errors (body size). The network-zone policy's middleware is the VPN
app's (api/vpn/middleware.py): it needs the VPN peers and the audit log.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.common.context import reset_source_address, set_source_address
from api.common.errors import error_response
from api.common.i18n import t

logger = logging.getLogger(__name__)

Handler = Callable[[HttpRequest], HttpResponse]
# A plain decimal number of at most 18 digits (a larger one is an attack, not a body).
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")


class RequestContextMiddleware:
    """Binds the decided client address to the request's context for audit records."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_source_address(None)
        try:
            return self.get_response(request)
        finally:
            reset_source_address(token)


@functools.lru_cache(maxsize=8)
def _compiled_limits(limits: tuple[tuple[str, int], ...]) -> tuple[tuple[re.Pattern, int], ...]:
    return tuple((re.compile(pattern), int(limit)) for pattern, limit in limits)


def body_limit_for(path: str) -> int:
    """The body limit of ``path``: the first GOVDESK_BODY_LIMITS pattern that matches
    (e.g. attachment uploads, docs/documents.md#attachments), else GOVDESK_MAX_BODY_BYTES."""
    limits = tuple(tuple(item) for item in getattr(settings, "GOVDESK_BODY_LIMITS", ()))
    for pattern, limit in _compiled_limits(limits):
        if pattern.match(path):
            return limit
    return settings.GOVDESK_MAX_BODY_BYTES


class BodySizeLimitMiddleware:
    """413 in the envelope for a body over GOVDESK_MAX_BODY_BYTES (or the path's own
    limit from GOVDESK_BODY_LIMITS), before it is read; 400 for a Content-Length that
    is not a plain non-negative integer."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH")
        if length is None or length == "":
            return self.get_response(request)
        if not _CONTENT_LENGTH.fullmatch(length):
            return error_response(
                400,
                "bad_request",
                t("Content-Length 无效。", "The Content-Length header is not valid."),
            )
        if int(length) > body_limit_for(request.path_info):
            return error_response(413, "payload_too_large")
        return self.get_response(request)
