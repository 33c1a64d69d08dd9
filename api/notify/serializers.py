"""Serializers of the notification API. Docs: docs/notifications.md#http-api.

Device registration validates the address before anything is stored: an FCM
registration token has the token alphabet and length; a Web Push subscription has
an https endpoint on a host GOVDESK_NOTIFY_WEBPUSH_HOSTS allows (the browsers' push
services by default; http(s)://127.0.0.1 / localhost also outside production, for the
local test receiver; in production never an IP-address or localhost endpoint), since
the worker POSTs to it and any other host could be a machine of our own network, and
base64url keys of the sizes RFC 8291 fixes (p256dh: a 65-byte uncompressed P-256
point; auth: 16 bytes).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import serializers

from api.common.errors import ApiError
from api.common.serializers import StrictSerializer
from api.notify import registry
from api.notify.models import Device, DeviceKind, Notification, NotificationPreference, Urgency

FCM_TOKEN = re.compile(r"^[A-Za-z0-9_\-:.]{100,4096}$")
BASE64URL = re.compile(r"^[A-Za-z0-9_\-]+={0,2}$")
MAX_ENDPOINT = 2048


class NotificationSerializer(serializers.ModelSerializer):
    task_id = serializers.IntegerField(allow_null=True, read_only=True)
    document_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "task_id",
            "document_id",
            "urgency",
            "read_at",
            "created_at",
        ]
        read_only_fields = fields


class DeliveryTrailStepSerializer(serializers.Serializer):
    rung = serializers.CharField(help_text="in_app, fcm, webpush, xmpp, sms, im")
    outcome = serializers.CharField(
        help_text="in_app: read/unread; else pending, sending, sent (provider accepted), "
        "skipped, failed, or per SMS receipts delivered / failed / expired"
    )
    at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    address = serializers.CharField(help_text="masked mobile number or JID; blank for devices")
    attempts = serializers.IntegerField()
    parts = serializers.IntegerField(help_text="SMS parts the SMSC accepted")
    error_code = serializers.CharField()


class DeliveryTrailSerializer(serializers.Serializer):
    notification_id = serializers.IntegerField()
    read_at = serializers.DateTimeField(allow_null=True)
    ladder_note = serializers.CharField()
    steps = DeliveryTrailStepSerializer(many=True)


class EmptySerializer(StrictSerializer):
    """No body (or ``{}``); any field is refused."""


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class ReadAllResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="how many were unread and are now read")


class DeviceSerializer(serializers.ModelSerializer):
    """A device as its owner sees it; the token/subscription is never echoed."""

    class Meta:
        model = Device
        fields = [
            "id",
            "kind",
            "label",
            "enabled",
            "disabled_reason",
            "push_enabled",
            "min_urgency",
            "created_at",
            "last_seen_at",
        ]
        read_only_fields = fields


def _b64url_bytes(value: str) -> bytes | None:
    if not isinstance(value, str) or not BASE64URL.match(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _names_a_machine_directly(host: str) -> bool:
    """An IP-address literal or localhost, rather than a push service's DNS name."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _loopback_allowed() -> bool:
    return registry.loopback_endpoints_allowed()


def validate_subscription(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError("push_subscription_invalid")
    endpoint = value.get("endpoint")
    keys = value.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, dict) or not endpoint:
        raise ApiError("push_subscription_invalid")
    # A URL is printable and has no spaces; a NUL in particular would reach the JSON
    # column, which PostgreSQL refuses (a 500 instead of a 400).
    if len(endpoint) > MAX_ENDPOINT or not endpoint.isprintable() or " " in endpoint:
        raise ApiError("push_subscription_invalid")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # e.g. "https://[::1/x": an unbalanced IPv6 literal
        raise ApiError("push_subscription_invalid") from None
    secure = parts.scheme == "https" and bool(host)
    loopback = parts.scheme == "http" and host in ("127.0.0.1", "localhost")
    if not (secure or (loopback and _loopback_allowed())):
        raise ApiError("push_endpoint_not_allowed")
    if parts.username or parts.password:
        raise ApiError("push_endpoint_not_allowed")
    if not _loopback_allowed() and _names_a_machine_directly(host):
        # Browsers' push services are named hosts. An IP address or localhost aims the
        # worker's POSTs at a machine of our own network (server-side request forgery).
        raise ApiError("push_endpoint_not_allowed")
    if not registry.webpush_endpoint_allowed(endpoint):
        # A DNS name can resolve to an intranet host too: only the push services the
        # operator lists (GOVDESK_NOTIFY_WEBPUSH_HOSTS) are POSTed to.
        raise ApiError("push_endpoint_not_allowed")
    p256dh = _b64url_bytes(keys.get("p256dh", ""))
    auth = _b64url_bytes(keys.get("auth", ""))
    if p256dh is None or len(p256dh) != 65 or p256dh[0] != 0x04:
        raise ApiError("push_keys_invalid")
    if auth is None or len(auth) != 16:
        raise ApiError("push_keys_invalid")
    # Stored normalised: exactly what the Web Push channel needs, nothing else.
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


class DeviceRegisterSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=DeviceKind.choices)
    token = serializers.CharField(
        required=False, allow_blank=False, max_length=4096, help_text="FCM registration token"
    )
    subscription = serializers.JSONField(
        required=False,
        help_text="Web Push PushSubscription.toJSON(): {endpoint, keys: {p256dh, auth}}",
    )
    # "label" shadows Field.label for the type checker only: DRF's metaclass moves
    # declared fields out of the class attributes.
    label = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, max_length=100, default=""
    )
    push_enabled = serializers.BooleanField(required=False, default=True)
    min_urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, default=Urgency.LOW
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == DeviceKind.FCM:
            token = attrs.get("token", "")
            if "subscription" in attrs or not FCM_TOKEN.match(token):
                raise ApiError("push_token_invalid")
        else:
            if "token" in attrs or "subscription" not in attrs:
                raise ApiError("push_subscription_invalid")
            attrs["subscription"] = validate_subscription(attrs["subscription"])
        return attrs


class DeviceUpdateSerializer(StrictSerializer):
    label = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, max_length=100
    )
    push_enabled = serializers.BooleanField(required=False)
    enabled = serializers.BooleanField(required=False)
    min_urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)


class PreferenceSerializer(serializers.ModelSerializer):
    quiet_hours = serializers.SerializerMethodField(
        help_text='local time window with no SMS except very urgent, e.g. "22:00-07:00"; '
        '"" when there is none (set by the operator, not by users)'
    )
    mobile_number_invalid = serializers.SerializerMethodField(
        help_text="the SMS provider rejected the current mobile number"
    )

    class Meta:
        model = NotificationPreference
        fields = [
            "push_enabled",
            "sms_enabled",
            "sms_very_urgent_at_night",
            "quiet_hours",
            "mobile_number_invalid",
        ]

    def get_quiet_hours(self, obj: NotificationPreference) -> str:
        window = settings.GOVDESK_NOTIFY_QUIET_HOURS
        return "" if window is None else f"{window[0]:%H:%M}-{window[1]:%H:%M}"

    def get_mobile_number_invalid(self, obj: NotificationPreference) -> bool:
        mobile = obj.user.mobile.strip()
        return bool(obj.bad_mobile) and obj.bad_mobile == mobile


class PreferenceUpdateSerializer(StrictSerializer):
    push_enabled = serializers.BooleanField(required=False)
    sms_enabled = serializers.BooleanField(required=False)
    sms_very_urgent_at_night = serializers.BooleanField(required=False)
