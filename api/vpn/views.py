"""The VPN API: devices (request, approve, config once, revoke), who is connected,
the gateway agents' endpoints and their credentials. Docs: docs/vpn.md#api.

Thin views: state changes are in api/vpn/actions.py, reads in api/vpn/selectors.py.
The config fetch and the agent credential issue are deliberately not ``@idempotent``:
a replayed response would keep a private key or a credential in the idempotency cache
(Redis) in plaintext; a lost response means revoke and request (or issue) again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.roles import is_city_it_admin
from api.audit.recorder import record_denied
from api.common.auth import current_user
from api.common.errors import ApiError, Forbidden
from api.common.i18n import one_of
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import bool_param
from api.common.schema import (
    ERR_400,
    ERR_403,
    ERR_404,
    ERR_409,
    error_response,
    errors,
)
from api.vpn import actions, selectors
from api.vpn import serializers as s
from api.vpn.authentication import AgentCredentialAuthentication, IsGatewayAgent
from api.vpn.models import DeviceStatus, GatewayAgent

TAGS = ["vpn"]
AGENT_TAGS = ["vpn-agent"]
ERR_401_AGENT = {401: error_response("not_authenticated / agent_credential_invalid")}
ERR_410 = {410: error_response("vpn_config_already_fetched")}


class DevicePagination(CursorPagination):
    page_size = 50
    ordering = "-id"


class DeviceListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="My devices and those I manage or supervise",
        operation_id="vpn_devices_list",
        parameters=[
            OpenApiParameter("status", str, enum=DeviceStatus.values, required=False),
            OpenApiParameter("mine", bool, required=False, description="only my own devices"),
        ],
        responses={200: s.VpnDevicePageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        rows = selectors.visible_devices(user)
        status = request.query_params.get("status")
        if status is not None:
            if status not in DeviceStatus.values:
                raise ApiError("validation_error", fields={"status": [one_of(DeviceStatus.values)]})
            rows = rows.filter(status=status)
        if bool_param(request, "mine"):
            rows = rows.filter(user=user)
        paginator = DevicePagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        return paginator.get_paginated_response([s.device_data(d) for d in page])

    @extend_schema(
        tags=TAGS,
        summary="Request VPN access for a device",
        request=s.VpnDeviceRequestSerializer,
        responses={201: s.VpnDeviceSerializer, **errors(ERR_400, ERR_409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = s.VpnDeviceRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = actions.request_access(
            current_user(request),
            name=body.validated_data["name"],
            public_key=body.validated_data.get("public_key"),
            expires_on=body.validated_data.get("expires_on"),
        )
        return Response(s.device_data(device), status=201)


class DeviceDetailView(APIView):
    @extend_schema(
        tags=TAGS, summary="One device", responses={200: s.VpnDeviceSerializer, **errors(ERR_404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        device = actions.device_or_404(current_user(request), pk, "vpn.view")
        return Response(s.device_data(device))


class DeviceApproveView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Approve a device (the owner's unit admin or a city IT admin)",
        request=s.VpnDeviceApproveSerializer,
        responses={200: s.VpnDeviceSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        body = s.VpnDeviceApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = actions.approve(
            current_user(request), pk, expires_on=body.validated_data.get("expires_on")
        )
        return Response(s.device_data(device))


class DeviceRevokeView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Revoke a device (lost phone): the owner, their unit admin or a city IT admin",
        request=s.VpnDeviceRevokeSerializer,
        responses={200: s.VpnDeviceSerializer, **errors(ERR_400, ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        body = s.VpnDeviceRevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = actions.revoke(current_user(request), pk, reason=body.validated_data["reason"])
        return Response(s.device_data(device))


class DeviceConfigView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The wg-quick config and QR code, once (the owner only)",
        request=None,
        responses={200: s.VpnDeviceConfigSerializer, **errors(ERR_403, ERR_404, ERR_409, ERR_410)},
    )
    def post(self, request: Request, pk: int) -> Response:
        fetched = actions.fetch_config(current_user(request), pk)
        response = Response(
            {
                "device": s.device_data(fetched.device),
                "config": fetched.config,
                "qr_png": fetched.qr_png,
                "private_key_included": fetched.private_key_included,
            }
        )
        response["Cache-Control"] = "no-store"
        return response


def connection_data(device, cutoff) -> dict:
    return {
        "device_id": device.pk,
        "device_name": device.name,
        "owner": s.person_ref(device.user),
        "address": device.address,
        "connected": device.last_handshake_at is not None and device.last_handshake_at >= cutoff,
        "connected_since": device.connected_since,
        "last_handshake_at": device.last_handshake_at,
        "endpoint": device.endpoint,
        "rx_bytes": device.rx_bytes,
        "tx_bytes": device.tx_bytes,
        "expires_on": device.expires_on,
    }


class ConnectionListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Who is connected and since when (supervisors, unit admins, city IT admins)",
        operation_id="vpn_connections_list",
        parameters=[OpenApiParameter("connected", bool, required=False)],
        responses={200: s.VpnConnectionPageSerializer, **errors(ERR_403)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        if not selectors.may_see_connections(user):
            record_denied(
                "vpn.connections_view", actor=user, detail={"reason": "not_supervisor_or_admin"}
            )
            raise Forbidden()
        connected_only = bool(bool_param(request, "connected"))
        rows = selectors.connections(user, connected_only=connected_only)
        paginator = DevicePagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        cutoff = selectors.connected_cutoff()
        return paginator.get_paginated_response([connection_data(d, cutoff) for d in page])


class WhoAmIView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="How this request reached the API: the client address and the VPN device",
        responses={200: s.VpnWhoAmISerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        peer = getattr(request._request, "vpn_peer", None)
        return Response(
            {
                "client_address": getattr(request._request, "client_address", None),
                "via_vpn": peer is not None,
                "device_id": peer.device_id if peer else None,
                "user_id": request.user.pk,
            }
        )


# --- Gateway agents ------------------------------------------------------------------


class AgentCredentialListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Gateway agent credentials (city IT admins)",
        operation_id="vpn_agents_list",
        responses={200: s.VpnAgentPageSerializer, **errors(ERR_403)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        if not is_city_it_admin(user):
            record_denied("vpn.agent_list", actor=user, detail={"reason": "not_city_it_admin"})
            raise Forbidden()
        paginator = DevicePagination()
        page = paginator.paginate_queryset(GatewayAgent.objects.all(), request, view=self) or []
        return paginator.get_paginated_response([agent_data(a) for a in page])

    @extend_schema(
        tags=TAGS,
        summary="Issue a gateway agent credential (shown once)",
        request=s.VpnAgentIssueSerializer,
        responses={201: s.VpnAgentIssuedSerializer, **errors(ERR_400, ERR_403)},
    )
    def post(self, request: Request) -> Response:
        body = s.VpnAgentIssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agent, credential = actions.issue_agent_credential(
            current_user(request), name=body.validated_data["name"]
        )
        response = Response({**agent_data(agent), "credential": credential}, status=201)
        response["Cache-Control"] = "no-store"
        return response


def agent_data(agent: GatewayAgent) -> dict:
    return {
        "id": agent.pk,
        "name": agent.name,
        "credential_prefix": agent.credential_prefix,
        "created_at": agent.created_at,
        "revoked_at": agent.revoked_at,
        "last_seen_at": agent.last_seen_at,
        "last_list_version": agent.last_list_version,
    }


class AgentCredentialRevokeView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Revoke a gateway agent credential",
        request=None,
        responses={200: s.VpnAgentSerializer, **errors(ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return Response(agent_data(actions.revoke_agent_credential(current_user(request), pk)))


class AgentPeerListView(APIView):
    authentication_classes = [AgentCredentialAuthentication]
    permission_classes = [IsGatewayAgent]

    @extend_schema(
        tags=AGENT_TAGS,
        summary="The signed list of approved peers (the gateway agent)",
        responses={200: s.VpnPeerListSerializer, **ERR_401_AGENT},
    )
    def get(self, request: Request) -> Response:
        response = Response(actions.peer_list_for(cast(GatewayAgent, request.user)))
        response["Cache-Control"] = "no-store"
        return response


class AgentStatusView(APIView):
    authentication_classes = [AgentCredentialAuthentication]
    permission_classes = [IsGatewayAgent]

    @extend_schema(
        tags=AGENT_TAGS,
        summary="Report each peer's latest handshake, endpoint and counters (the gateway agent)",
        request=s.VpnStatusReportSerializer,
        responses={
            200: s.VpnStatusResultSerializer,
            **ERR_400,
            **ERR_401_AGENT,
        },
    )
    def post(self, request: Request) -> Response:
        body = s.VpnStatusReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reports = [
            actions.PeerReport(
                public_key=p["public_key"],
                endpoint=p.get("endpoint"),
                latest_handshake=(
                    datetime.fromtimestamp(p["latest_handshake"], tz=UTC)
                    if p["latest_handshake"]
                    else None
                ),
                rx_bytes=p["rx_bytes"],
                tx_bytes=p["tx_bytes"],
            )
            for p in body.validated_data["peers"]
        ]
        result = actions.apply_status_report(cast(GatewayAgent, request.user), reports)
        return Response(result)
