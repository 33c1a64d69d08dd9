"""The network-zone policy at the door: refuse any request from outside the allowed
networks, and attribute a VPN pool address to the device holding it.

Docs: docs/network-zones.md and docs/vpn.md#key-lending. The policy itself is plain
Python (vpn_gateway/zones.py); the gateway agent uses it too.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.audit.recorder import record_denied
from api.common.context import set_source_address
from api.common.errors import error_response
from api.common.middleware import Handler
from api.vpn.peers import in_pool, peer_for_address
from vpn_gateway.zones import NetworkZonePolicy, cached_policy

logger = logging.getLogger(__name__)

# Refusal reason: a pool address that no live VPN device holds (docs/vpn.md#key-lending).
VPN_PEER_UNKNOWN = "vpn_peer_unknown"


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
            vpn_peer = peer_for_address(client)
            if vpn_peer is None:
                self._record_refusal(request, VPN_PEER_UNKNOWN, client, peer, forwarded_for)
                return error_response(403, "vpn_peer_unknown")
            request.vpn_peer = vpn_peer  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def _vpn_in_pool(client: str) -> bool:
        return in_pool(client)

    @staticmethod
    def _record_refusal(
        request: HttpRequest,
        reason: str,
        client: str | None,
        peer: str | None,
        forwarded_for: str | None,
    ) -> None:
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
