"""Request and response shapes of the VPN API. Docs: docs/vpn.md#api."""

from __future__ import annotations

from rest_framework import serializers

from api.common.serializers import StrictSerializer
from api.vpn.models import DeviceStatus, KeyOrigin


class VpnPersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField()


def person_ref(user) -> dict | None:
    if user is None:
        return None
    return {
        "id": user.pk,
        "display_name": user.display_name,
        "unit_id": user.unit_id,
        "unit_name": user.unit.name,
    }


class VpnDeviceRequestSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64, help_text="设备名称 / device name")
    public_key = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=44,
        help_text="the device's WireGuard public key (base64); leave out to have the "
        "server make the key pair when the config is fetched",
    )
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="default: GOVDESK_VPN_MAX_DAYS from today"
    )


class VpnDeviceApproveSerializer(StrictSerializer):
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="shorten the access (never lengthen it)"
    )


class VpnDeviceRevokeSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class VpnDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = VpnPersonRefSerializer()
    status = serializers.ChoiceField(choices=DeviceStatus.choices)
    key_origin = serializers.ChoiceField(choices=KeyOrigin.choices)
    public_key = serializers.CharField(allow_blank=True)
    address = serializers.IPAddressField(allow_null=True)
    expires_on = serializers.DateField()
    requested_at = serializers.DateTimeField()
    approved_by = VpnPersonRefSerializer(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    config_fetched = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField(allow_blank=True)


def device_data(device) -> dict:
    return {
        "id": device.pk,
        "name": device.name,
        "owner": person_ref(device.user),
        "status": device.status,
        "key_origin": device.key_origin,
        "public_key": device.public_key,
        "address": device.address,
        "expires_on": device.expires_on,
        "requested_at": device.requested_at,
        "approved_by": person_ref(device.approved_by),
        "approved_at": device.approved_at,
        "config_fetched": device.config_fetched_at is not None,
        "revoked_at": device.revoked_at,
        "revoke_reason": device.revoke_reason,
    }


class VpnDevicePageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = VpnDeviceSerializer(many=True)


class VpnDeviceConfigSerializer(serializers.Serializer):
    device = VpnDeviceSerializer()
    config = serializers.CharField(help_text="wg-quick text for the WireGuard app")
    qr_png = serializers.CharField(help_text="data:image/png;base64,… of the same text")
    private_key_included = serializers.BooleanField(
        help_text="true: the server made the key pair; the private key is in `config` "
        "only, in this response only"
    )


class VpnConnectionSerializer(serializers.Serializer):
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    owner = VpnPersonRefSerializer()
    address = serializers.IPAddressField(allow_null=True)
    connected = serializers.BooleanField()
    connected_since = serializers.DateTimeField(allow_null=True)
    last_handshake_at = serializers.DateTimeField(allow_null=True)
    endpoint = serializers.CharField(allow_blank=True)
    rx_bytes = serializers.IntegerField()
    tx_bytes = serializers.IntegerField()
    expires_on = serializers.DateField()


class VpnConnectionPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = VpnConnectionSerializer(many=True)


class VpnWhoAmISerializer(serializers.Serializer):
    client_address = serializers.CharField(allow_null=True)
    via_vpn = serializers.BooleanField()
    device_id = serializers.IntegerField(allow_null=True)
    user_id = serializers.IntegerField()


class VpnAgentIssueSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)


class VpnAgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    credential_prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    last_list_version = serializers.IntegerField(allow_null=True)


class VpnAgentIssuedSerializer(VpnAgentSerializer):
    credential = serializers.CharField(help_text="shown once; store it in the agent's file")


class VpnAgentPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = VpnAgentSerializer(many=True)


class VpnPeerListPeerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    public_key = serializers.CharField()
    address = serializers.IPAddressField()


class VpnPeerListSerializer(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    generated_at = serializers.CharField()
    pool = serializers.CharField()
    gateway = serializers.CharField()
    peers = VpnPeerListPeerSerializer(many=True)
    sha256 = serializers.CharField()
    signature = serializers.CharField()


class VpnPeerStatusSerializer(StrictSerializer):
    public_key = serializers.CharField(max_length=44)
    endpoint = serializers.CharField(max_length=64, allow_null=True, required=False)
    # The upper bound keeps datetime.fromtimestamp in range (9999-12-31T23:59:59Z).
    latest_handshake = serializers.IntegerField(
        min_value=0,
        max_value=253_402_300_799,
        allow_null=True,
        help_text="unix seconds; null = never",
    )
    rx_bytes = serializers.IntegerField(min_value=0, max_value=2**63 - 1)
    tx_bytes = serializers.IntegerField(min_value=0, max_value=2**63 - 1)


class VpnStatusReportSerializer(StrictSerializer):
    interface = serializers.CharField(max_length=15)
    list_version = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    peers = serializers.ListField(child=VpnPeerStatusSerializer(), max_length=65_536)


class VpnStatusResultSerializer(serializers.Serializer):
    peers = serializers.IntegerField()
    matched = serializers.IntegerField()
    connection_changes = serializers.IntegerField()
