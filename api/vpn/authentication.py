"""The gateway agent's credential: ``Authorization: Agent <credential>``.

Docs: docs/vpn.md#the-agent-credential. The credential is looked up by its SHA-256
(the only form stored); a missing, unknown or revoked one is 401
``agent_credential_invalid`` and audited. The credential itself is never logged or
recorded — the audit detail names the agent, or the credential's first characters.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from api.audit.recorder import record_denied
from api.common.errors import ApiError
from api.vpn.models import GatewayAgent
from vpn_gateway.peerlist import credential_hash

KEYWORD = b"agent"
MAX_CREDENTIAL_CHARS = 256


class AgentCredentialAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        credential = parts[1].decode("latin-1") if len(parts) == 2 else ""
        agent = None
        if credential and len(credential) <= MAX_CREDENTIAL_CHARS:
            agent = GatewayAgent.objects.filter(
                credential_sha256=credential_hash(credential)
            ).first()
        if agent is None or agent.revoked_at is not None:
            record_denied(
                "vpn.agent_denied",
                object_type="vpn.gatewayagent",
                object_id=agent.pk if agent else "",
                actor_username=f"agent:{agent.name}" if agent else "",
                detail={
                    "reason": "revoked" if agent else "unknown_credential",
                    "prefix": credential[:8] if agent else "",
                },
            )
            raise ApiError("agent_credential_invalid", status_code=401)
        return agent, None

    def authenticate_header(self, request) -> str:
        return 'Agent realm="govdesk-vpn"'


class IsGatewayAgent(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, GatewayAgent)


class AgentCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "api.vpn.authentication.AgentCredentialAuthentication"
    name = "agentCredential"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Agent <credential>` — a gateway agent credential (docs/vpn.md)",
        }
