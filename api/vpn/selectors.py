"""Reads for VPN access: who may see which device, lists. Docs: docs/vpn.md#api."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.accounts.models import User
from api.accounts.roles import (
    admin_units,
    can_manage_unit,
    can_supervise_unit,
    is_city_it_admin,
    supervised_units,
)
from api.vpn.models import DeviceStatus, VpnDevice

DEVICE_RELATED = ("user", "user__unit", "approved_by", "approved_by__unit")


def can_view_device(user: User, device: VpnDevice) -> bool:
    return (
        device.user_id == user.pk
        or can_manage_unit(user, device.user.unit)
        or can_supervise_unit(user, device.user.unit)
    )


def can_manage_device(user: User, device: VpnDevice) -> bool:
    """Approve or revoke another person's device: their unit admin (subtree) or a city IT admin."""
    return can_manage_unit(user, device.user.unit)


def device_by_id(pk: int) -> VpnDevice | None:
    return VpnDevice.objects.select_related(*DEVICE_RELATED).filter(pk=pk).first()


def _scope(user: User, *, supervise: bool) -> Q | None:
    """Devices of the units ``user`` manages (and supervises, when asked); None = all."""
    if is_city_it_admin(user):
        return None
    query = Q(pk__in=[])
    roots = [u.path for u in admin_units(user)]
    if supervise:
        roots += [u.path for u in supervised_units(user)]
    for path in roots:
        query |= Q(user__unit__path__startswith=path)
    return query


def _manages(user: User) -> bool:
    return bool(admin_units(user))


def visible_devices(user: User) -> QuerySet[VpnDevice]:
    """The caller's own devices and those of the units they manage or supervise."""
    scope = _scope(user, supervise=True)
    base = VpnDevice.objects.select_related(*DEVICE_RELATED)
    if scope is None:
        return base
    return base.filter(Q(user=user) | scope)


def may_see_connections(user: User) -> bool:
    return is_city_it_admin(user) or bool(supervised_units(user)) or _manages(user)


def connections(user: User, *, connected_only: bool) -> QuerySet[VpnDevice]:
    """Approved devices in the caller's scope with their connection state."""
    scope = _scope(user, supervise=True)
    rows = VpnDevice.objects.select_related("user", "user__unit").filter(
        status=DeviceStatus.APPROVED
    )
    if scope is not None:
        rows = rows.filter(scope)
    if connected_only:
        rows = rows.filter(last_handshake_at__gte=connected_cutoff())
    return rows


def connected_cutoff():
    return timezone.now() - timedelta(seconds=settings.GOVDESK_VPN_CONNECTED_SECONDS)


def live_peers() -> QuerySet[VpnDevice]:
    """The gateway's peer set: approved, not expired, key and address known."""
    return (
        VpnDevice.objects.filter(
            status=DeviceStatus.APPROVED,
            expires_on__gte=timezone.localdate(),
            address__isnull=False,
        )
        .exclude(public_key="")
        .order_by("id")
    )
