"""VPN access: a device's WireGuard peer, the gateway agents' credentials, and the
peer list's version. Docs: docs/vpn.md.

A ``VpnDevice`` is one phone or laptop of one person. Its life: ``pending``
(requested) → ``approved`` (an address is allocated; the gateway gets the peer once
the public key is known) → ``revoked`` (lost phone, left the job, or a request
refused). ``expires_on`` ends an approved device's access without a revocation.
The device's private key is never stored: either the device made it and sent only
the public key, or the server made it and returned it once, in the config response.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DeviceStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REVOKED = "revoked", "已吊销"


class KeyOrigin(models.TextChoices):
    DEVICE = "device", "设备生成"
    SERVER = "server", "服务器生成（仅下发一次）"


class VpnDevice(models.Model):
    """One device's access to the VPN (移动办公接入)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vpn_devices"
    )
    name = models.CharField(max_length=64, help_text="e.g. 张三的华为手机")
    status = models.CharField(
        max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.PENDING
    )
    key_origin = models.CharField(max_length=10, choices=KeyOrigin.choices)
    # Empty until known: a server-made key is made when the config is fetched.
    public_key = models.CharField(max_length=44, blank=True, default="")
    address = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True)
    expires_on = models.DateField()
    requested_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    config_fetched_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True)
    # From the gateway agent's status reports (docs/vpn.md#who-is-connected).
    last_handshake_at = models.DateTimeField(null=True, blank=True)
    connected_since = models.DateTimeField(null=True, blank=True)
    endpoint = models.CharField(max_length=64, blank=True)
    rx_bytes = models.BigIntegerField(default=0)
    tx_bytes = models.BigIntegerField(default=0)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "address"], name="vpn_device_status_addr"),
            models.Index(fields=["user", "status"], name="vpn_device_user_status"),
        ]
        constraints = [
            # One key, one device (for ever: a revoked key is not enrolled again).
            models.UniqueConstraint(
                fields=["public_key"],
                condition=~models.Q(public_key=""),
                name="vpn_device_unique_public_key",
            ),
            # One live holder per address (revoked devices keep theirs for the record).
            models.UniqueConstraint(
                fields=["address"],
                condition=models.Q(status="approved"),
                name="vpn_device_unique_live_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def unit_id(self) -> int:
        # The audit log files a device's events under its owner's unit.
        return self.user.unit_id

    def is_live(self, today=None) -> bool:
        """Approved and not past its expiry date."""
        today = today or timezone.localdate()
        return self.status == DeviceStatus.APPROVED and self.expires_on >= today


class GatewayAgent(models.Model):
    """A gateway agent's credential; only its SHA-256 is stored.

    Docs: docs/vpn.md#the-agent-credential."""

    name = models.CharField(max_length=64)
    credential_sha256 = models.CharField(max_length=64, unique=True)
    credential_prefix = models.CharField(
        max_length=8, help_text="first characters, to tell them apart"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_list_version = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_authenticated(self) -> bool:  # DRF treats request.user as a principal
        return True


class PeerListState(models.Model):
    """One row (pk=1): the peer list's version, raised by every change to the set of
    live peers. Its row lock also serialises address allocation."""

    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)
