"""Request-level guards: the network-zone policy, body size, and request context.

Docs: docs/network-zones.md (NetworkZoneMiddleware) and docs/api.md#errors (body size).
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
from vpn_gateway.zones import NetworkZonePolicy, cached_policy

logger = logging.getLogger(__name__)

# Refusal reason: a pool address that no live VPN device holds (docs/vpn.md#key-lending).
VPN_PEER_UNKNOWN = "vpn_peer_unknown"

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


class NetworkZoneMiddleware:
    """Refuses (403 ``network_not_allowed``, audited) any request whose client is not
    in GOVDESK_ALLOWED_NETWORKS. X-Forwarded-For counts only from trusted proxies.

    The policy is looked up on each call from the current settings (cached per
    configuration), so ``override_settings`` in tests takes effect at once.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    @staticmethod
    def policy() -> NetworkZonePolicy:
        return cached_policy(
            tuple(settings.GOVDESK_ALLOWED_NETWORKS), tuple(settings.GOVDESK_TRUSTED_PROXIES)
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR")
        forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
        decision = self.policy().decide(peer, forwarded_for)
        client = str(decision.client) if decision.client is not None else None
        request.client_address = client  # type: ignore[attr-defined]
        set_source_address(client)
        if not decision.allowed:
            self._record_refusal(request, decision.reason, client, peer, forwarded_for)
            return error_response(403, "network_not_allowed")
        # A VPN pool address is attributed to the device holding it (docs/vpn.md#key-lending);
        # the JWT authentication then refuses a token of anyone but the device's owner.
        request.vpn_peer = None  # type: ignore[attr-defined]
        if client is not None and self._vpn_in_pool(client):
            from api.vpn.peers import peer_for_address

            vpn_peer = peer_for_address(client)
            if vpn_peer is None:
                self._record_refusal(request, VPN_PEER_UNKNOWN, client, peer, forwarded_for)
                return error_response(403, "vpn_peer_unknown")
            request.vpn_peer = vpn_peer  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def _vpn_in_pool(client: str) -> bool:
        from api.vpn.peers import in_pool

        return in_pool(client)

    @staticmethod
    def _record_refusal(
        request: HttpRequest,
        reason: str,
        client: str | None,
        peer: str | None,
        forwarded_for: str | None,
    ) -> None:
        from api.audit.recorder import record_denied

        try:
            record_denied(
                "network.denied",
                source_address=client,
                detail={
                    "reason": reason,
                    "method": str(request.method)[:16],
                    "path": request.path[:200],
                    "peer": (peer or "")[:64],
                    "forwarded_for": (forwarded_for or "")[:200],
                },
            )
        except Exception:
            # Refuse even when the refusal cannot be recorded (fail closed).
            logger.exception("could not record a network-zone refusal")


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
