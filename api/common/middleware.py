"""Request-level guards: the network-zone policy, body size, and request context.

Docs: docs/security.md#network-zones and docs/api.md#errors.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.common.context import reset_source_address, set_source_address
from api.common.errors import error_response
from vpn_gateway.zones import NetworkZonePolicy

Handler = Callable[[HttpRequest], HttpResponse]


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


class NetworkZoneMiddleware:
    """Refuses (403 ``network_not_allowed``, audited) any request whose client is not
    in GOVDESK_ALLOWED_NETWORKS. X-Forwarded-For counts only from trusted proxies."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = NetworkZonePolicy(
            settings.GOVDESK_ALLOWED_NETWORKS, settings.GOVDESK_TRUSTED_PROXIES
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        decision = self.policy.decide(
            request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR")
        )
        client = str(decision.client) if decision.client is not None else None
        request.client_address = client  # type: ignore[attr-defined]
        set_source_address(client)
        if not decision.allowed:
            from api.audit.recorder import record_denied

            record_denied(
                "network.denied",
                source_address=client,
                detail={
                    "path": request.path[:200],
                    "method": request.method,
                    "peer": request.META.get("REMOTE_ADDR", "")[:64],
                    "forwarded_for": request.META.get("HTTP_X_FORWARDED_FOR", "")[:200],
                },
            )
            return error_response(403, "network_not_allowed")
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """413 in the envelope for a body over GOVDESK_MAX_BODY_BYTES, before it is read."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return error_response(400, "bad_request")
        if size > settings.GOVDESK_MAX_BODY_BYTES:
            return error_response(413, "payload_too_large")
        return self.get_response(request)
