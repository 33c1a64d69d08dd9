"""Every state change of VPN access: request, approve, fetch the config once, revoke;
agent credentials; the agents' status reports. Docs: docs/vpn.md.

Each action is atomic and audited (``record``); a refused attempt is audited with
``record_denied`` before the error is raised. Another unit's device is a 404.
Actions that change the gateway's peer set lock the ``PeerListState`` row (which
also serialises address allocation) and raise its version.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from api.accounts.models import User
from api.accounts.roles import is_city_it_admin
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict, NotFound
from api.common.i18n import t
from api.vpn import peers as peer_cache
from api.vpn import selectors
from api.vpn.models import DeviceStatus, GatewayAgent, KeyOrigin, PeerListState, VpnDevice
from vpn_gateway import peerlist
from vpn_gateway.config import ClientConfig, qr_png_data_uri
from vpn_gateway.keys import generate_key_pair, is_valid_key
from vpn_gateway.pool import PoolExhausted

CREDENTIAL_PREFIX = "gda_"


def _deny(
    action: str,
    actor: User,
    *,
    hidden: bool,
    reason: str,
    device: VpnDevice | None = None,
    code: str = "permission_denied",
    status_code: int = 403,
) -> NoReturn:
    record_denied(action, actor=actor, obj=device, detail={"reason": reason})
    if hidden:
        raise NotFound()
    raise ApiError(code, status_code=status_code)


def _lock_state() -> PeerListState:
    PeerListState.objects.get_or_create(pk=1)
    return PeerListState.objects.select_for_update().get(pk=1)


def _bump(state: PeerListState) -> None:
    state.version += 1
    state.changed_at = timezone.now()
    state.save(update_fields=["version", "changed_at"])


def _locked_device(pk: int) -> VpnDevice:
    return (
        VpnDevice.objects.select_for_update(of=("self",))
        .select_related("user", "user__unit")
        .get(pk=pk)
    )


def device_or_404(actor: User, pk: int, action: str) -> VpnDevice:
    device = selectors.device_by_id(pk)
    if device is None:
        raise NotFound()
    if not selectors.can_view_device(actor, device):
        _deny(action, actor, hidden=True, reason="outside_scope", device=device)
    return device


def _check_expiry(expires_on: date | None, field: str = "expires_on") -> date:
    today = timezone.localdate()
    latest = today + timedelta(days=settings.GOVDESK_VPN_MAX_DAYS)
    if expires_on is None:
        return latest
    if not today < expires_on <= latest:
        raise ApiError(
            "validation_error",
            fields={
                field: [
                    t(
                        f"须晚于今天且不晚于 {latest.isoformat()}。",
                        f"Must be after today and no later than {latest.isoformat()}.",
                    )
                ]
            },
        )
    return expires_on


# --- Requests and decisions -----------------------------------------------------------


def request_access(
    actor: User, *, name: str, public_key: str | None, expires_on: date | None
) -> VpnDevice:
    """A member of staff asks for VPN access for one device. With ``public_key`` the
    device made its own key; without, the server makes one when the config is fetched."""
    if public_key is not None and not is_valid_key(public_key):
        raise ApiError(
            "validation_error",
            fields={"public_key": [t("不是 WireGuard 公钥。", "Not a WireGuard public key.")]},
        )
    expires = _check_expiry(expires_on)
    try:
        with transaction.atomic():
            device = VpnDevice.objects.create(
                user=actor,
                name=name,
                key_origin=KeyOrigin.DEVICE if public_key else KeyOrigin.SERVER,
                public_key=public_key or "",
                expires_on=expires,
            )
            record(
                "vpn.requested",
                actor=actor,
                obj=device,
                detail={
                    "name": name,
                    "key_origin": device.key_origin,
                    "expires_on": expires.isoformat(),
                },
            )
    except IntegrityError:
        raise Conflict("vpn_key_in_use") from None
    return selectors.device_by_id(device.pk) or device


def _unavailable_addresses() -> set[str]:
    """Addresses held by approved devices, and those of devices revoked within the
    quarantine period (GOVDESK_VPN_QUARANTINE_DAYS)."""
    since = timezone.now() - timedelta(days=settings.GOVDESK_VPN_QUARANTINE_DAYS)
    rows = VpnDevice.objects.filter(address__isnull=False).filter(
        Q(status=DeviceStatus.APPROVED) | Q(status=DeviceStatus.REVOKED, revoked_at__gte=since)
    )
    return {address for address in rows.values_list("address", flat=True) if address}


def approve(actor: User, pk: int, *, expires_on: date | None) -> VpnDevice:
    action = "vpn.approve"
    device = device_or_404(actor, pk, action)
    if not selectors.can_manage_device(actor, device):
        _deny(action, actor, hidden=False, reason="not_unit_admin", device=device)
    if device.user_id == actor.pk:
        _deny(
            action, actor, hidden=False, reason="self_approval", device=device, code="self_approval"
        )
    expires = _check_expiry(expires_on) if expires_on else None
    with transaction.atomic():
        state = _lock_state()
        device = _locked_device(pk)
        if device.status != DeviceStatus.PENDING:
            raise Conflict("vpn_not_pending", extra={"status": device.status})
        try:
            address = peer_cache.pool().allocate(_unavailable_addresses())
        except PoolExhausted:
            raise Conflict("vpn_pool_exhausted") from None
        device.status = DeviceStatus.APPROVED
        device.address = str(address)
        device.approved_by = actor
        device.approved_at = timezone.now()
        if expires is not None:
            device.expires_on = min(expires, device.expires_on)
        device.save(update_fields=["status", "address", "approved_by", "approved_at", "expires_on"])
        _bump(state)
        peer_cache.forget(device.address)
        record(
            "vpn.approved",
            actor=actor,
            obj=device,
            detail={
                "owner_id": device.user_id,
                "address": device.address,
                "expires_on": device.expires_on.isoformat(),
                "list_version": state.version,
            },
        )
    return selectors.device_by_id(pk) or device


def revoke(actor: User, pk: int, *, reason: str) -> VpnDevice:
    """Lost phone, left the job, or a request refused: by the owner, their unit admin
    or a city IT admin. Gone from the next peer list; the API refuses the address at once."""
    action = "vpn.revoke"
    device = device_or_404(actor, pk, action)
    if device.user_id != actor.pk and not selectors.can_manage_device(actor, device):
        _deny(action, actor, hidden=False, reason="not_owner_or_admin", device=device)
    with transaction.atomic():
        state = _lock_state()
        device = _locked_device(pk)
        if device.status == DeviceStatus.REVOKED:
            raise Conflict("vpn_already_revoked")
        was_live = device.status == DeviceStatus.APPROVED
        device.status = DeviceStatus.REVOKED
        device.revoked_by = actor
        device.revoked_at = timezone.now()
        device.revoke_reason = reason
        device.connected_since = None
        device.save(
            update_fields=["status", "revoked_by", "revoked_at", "revoke_reason", "connected_since"]
        )
        if was_live:
            _bump(state)
        peer_cache.forget(device.address)
        record(
            "vpn.revoked",
            actor=actor,
            obj=device,
            detail={
                "owner_id": device.user_id,
                "address": device.address,
                "reason": reason,
                "was_approved": was_live,
                "list_version": state.version,
            },
        )
    return selectors.device_by_id(pk) or device


@dataclass(frozen=True)
class FetchedConfig:
    device: VpnDevice
    config: str
    qr_png: str
    private_key_included: bool


def fetch_config(actor: User, pk: int) -> FetchedConfig:
    """The wg-quick config and its QR code, once. A server-made key pair is made here:
    the private key is in this response only and is never stored."""
    action = "vpn.config_fetch"
    device = device_or_404(actor, pk, action)
    if device.user_id != actor.pk:
        _deny(action, actor, hidden=False, reason="not_owner", device=device)
    if device.config_fetched_at is not None:
        _deny(
            action, actor, hidden=False, reason="already_fetched", device=device,
            code="vpn_config_already_fetched", status_code=410,
        )  # fmt: skip
    if not (settings.GOVDESK_VPN_ENDPOINT and settings.GOVDESK_VPN_SERVER_PUBLIC_KEY):
        raise Conflict("vpn_not_configured")
    with transaction.atomic():
        state = _lock_state()
        device = _locked_device(pk)
        if device.status == DeviceStatus.REVOKED:
            raise Conflict("vpn_already_revoked")
        if device.status != DeviceStatus.APPROVED:
            raise Conflict("vpn_not_approved")
        if device.expires_on < timezone.localdate():
            raise Conflict("vpn_expired")
        if device.config_fetched_at is not None:
            # A concurrent first fetch won the lock.
            raise ApiError("vpn_config_already_fetched", status_code=410)
        private_key = None
        fields = ["config_fetched_at"]
        if device.key_origin == KeyOrigin.SERVER:
            private_key, device.public_key = generate_key_pair()
            fields.append("public_key")
            _bump(state)
        device.config_fetched_at = timezone.now()
        device.save(update_fields=fields)
        assert device.address is not None
        text = ClientConfig(
            address=device.address,
            server_public_key=settings.GOVDESK_VPN_SERVER_PUBLIC_KEY,
            endpoint=settings.GOVDESK_VPN_ENDPOINT,
            allowed_ips=[str(n) for n in settings.GOVDESK_VPN_CLIENT_ROUTES],
            private_key=private_key,
            dns=settings.GOVDESK_VPN_DNS,
            keepalive_seconds=settings.GOVDESK_VPN_KEEPALIVE_SECONDS,
        ).render()
        record(
            "vpn.config_fetched",
            actor=actor,
            obj=device,
            detail={"key_origin": device.key_origin, "address": device.address},
        )
    return FetchedConfig(device, text, qr_png_data_uri(text), private_key is not None)


# --- Gateway agents ------------------------------------------------------------------


def _require_it_admin(actor: User, action: str) -> None:
    if not is_city_it_admin(actor):
        _deny(action, actor, hidden=False, reason="not_city_it_admin")


def issue_agent_credential(actor: User, *, name: str) -> tuple[GatewayAgent, str]:
    """A new agent credential, shown once; only its SHA-256 is kept."""
    _require_it_admin(actor, "vpn.agent_issue")
    credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        agent = GatewayAgent.objects.create(
            name=name,
            credential_sha256=peerlist.credential_hash(credential),
            credential_prefix=credential[:8],
            created_by=actor,
        )
        record(
            "vpn.agent_issued",
            actor=actor,
            object_type="vpn.gatewayagent",
            object_id=agent.pk,
            detail={"name": name, "prefix": agent.credential_prefix},
        )
    return agent, credential


def revoke_agent_credential(actor: User, pk: int) -> GatewayAgent:
    _require_it_admin(actor, "vpn.agent_revoke")
    with transaction.atomic():
        agent = GatewayAgent.objects.select_for_update().filter(pk=pk).first()
        if agent is None:
            raise NotFound()
        if agent.revoked_at is not None:
            raise Conflict("conflict")
        agent.revoked_at = timezone.now()
        agent.save(update_fields=["revoked_at"])
        record(
            "vpn.agent_revoked",
            actor=actor,
            object_type="vpn.gatewayagent",
            object_id=agent.pk,
            detail={"name": agent.name, "prefix": agent.credential_prefix},
        )
    return agent


def _agent_actor(agent: GatewayAgent) -> str:
    return f"agent:{agent.name}"[:64]


def peer_list_for(agent: GatewayAgent) -> dict[str, Any]:
    """The signed peer list (vpn_gateway.peerlist) for this agent."""
    state, _ = PeerListState.objects.get_or_create(pk=1)
    pool = peer_cache.pool()
    payload = {
        "format": peerlist.FORMAT,
        "version": state.version,
        "generated_at": client_datetime(timezone.now()),
        "pool": str(pool.network),
        "gateway": str(pool.gateway),
        "peers": [
            {"id": pk, "public_key": key, "address": address}
            for pk, key, address in selectors.live_peers().values_list(
                "id", "public_key", "address"
            )
        ],
    }
    GatewayAgent.objects.filter(pk=agent.pk).update(
        last_seen_at=timezone.now(), last_list_version=state.version
    )
    return peerlist.sign(payload, agent.credential_sha256)


@dataclass(frozen=True)
class PeerReport:
    public_key: str
    endpoint: str | None
    latest_handshake: datetime | None
    rx_bytes: int
    tx_bytes: int


def apply_status_report(agent: GatewayAgent, reports: list[PeerReport]) -> dict[str, int]:
    """Store each reported peer's handshake, endpoint and counters; a device whose
    connection starts or ends gets ``connected_since`` set or cleared and an audit
    event (one per change, not per report)."""
    now = timezone.now()
    cutoff = selectors.connected_cutoff()
    by_key = {r.public_key: r for r in reports}
    changed: list[VpnDevice] = []
    events: list[tuple[str, VpnDevice, dict[str, Any]]] = []
    with transaction.atomic():
        devices = list(
            VpnDevice.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(public_key__in=list(by_key), status=DeviceStatus.APPROVED)
        )
        for device in devices:
            report = by_key[device.public_key]
            was_connected = device.connected_since is not None
            connected = report.latest_handshake is not None and report.latest_handshake >= cutoff
            device.last_handshake_at = report.latest_handshake
            device.endpoint = (report.endpoint or "")[:64]
            device.rx_bytes, device.tx_bytes = report.rx_bytes, report.tx_bytes
            device.reported_at = now
            if connected and not was_connected:
                device.connected_since = report.latest_handshake
                events.append(("vpn.peer_connected", device, {"endpoint": device.endpoint}))
            elif not connected and was_connected:
                events.append(
                    (
                        "vpn.peer_disconnected",
                        device,
                        {"since": client_datetime(device.connected_since)},
                    )
                )
                device.connected_since = None
            changed.append(device)
        VpnDevice.objects.bulk_update(
            changed,
            [
                "last_handshake_at",
                "endpoint",
                "rx_bytes",
                "tx_bytes",
                "reported_at",
                "connected_since",
            ],
        )
        GatewayAgent.objects.filter(pk=agent.pk).update(last_seen_at=now)
        for name, device, detail in events:
            record(
                name,
                obj=device,
                actor_username=_agent_actor(agent),
                source_address=None,
                detail={**detail, "owner_id": device.user_id, "address": device.address},
            )
    return {"peers": len(reports), "matched": len(changed), "connection_changes": len(events)}
