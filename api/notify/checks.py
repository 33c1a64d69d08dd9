"""System checks of the notify app: the zero-internet profile and the Web Push settings.

Docs: docs/notifications.md#zero-internet-profile and docs/notifications.md#web-push.

The zero-internet profile: with ``GOVDESK_NOTIFY_ALLOWED_NETWORKS`` set (the networks
this deployment may reach: the intranet, the private line to the SMSC), every configured
delivery channel's address must lie in them; a channel that points elsewhere (FCM's
Google endpoint, a cloud SMS API, a public robot webhook) gets a warning at start-up
(``manage.py check``, and ``check --deploy --fail-level WARNING`` in the container's
setup fails on it). A host name is resolved with the system resolver; one that does not
resolve is reported too. Unset (the default), nothing is checked.

The Web Push settings: the VAPID key must load and its subject be a mailto: or https:
URL (RFC 8292) — errors ``notify.E001``/``notify.E002``.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from notifications.channels.webpush import load_vapid_private_key

# The providers' own endpoints when no relay is configured (notifications/channels).
DEFAULT_ENDPOINTS = {
    "aliyun": "https://dysmsapi.aliyuncs.com/",
    "tencent": "https://sms.tencentcloudapi.com/",
    "fcm": "https://fcm.googleapis.com/",
}


def _host(url: str) -> str:
    try:
        return urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        return ""


def configured_addresses() -> list[tuple[str, str]]:
    """(channel, host) of every channel the settings switch on."""
    s = settings
    found: list[tuple[str, str]] = []
    if s.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE:
        found.append(("fcm", _host(s.GOVDESK_NOTIFY_FCM_URL or DEFAULT_ENDPOINTS["fcm"])))
    provider = s.GOVDESK_NOTIFY_SMS_PROVIDER
    if provider == "smpp" and s.GOVDESK_NOTIFY_SMPP_HOST:
        found.append(("sms (SMPP)", s.GOVDESK_NOTIFY_SMPP_HOST))
    elif provider in ("aliyun", "tencent"):
        url = s.GOVDESK_NOTIFY_SMS_ENDPOINT or DEFAULT_ENDPOINTS[provider]
        found.append((f"sms ({provider})", _host(url)))
    if s.GOVDESK_NOTIFY_IM_WEBHOOK_URL:
        found.append(("im robot", _host(s.GOVDESK_NOTIFY_IM_WEBHOOK_URL)))
    if s.GOVDESK_NOTIFY_XMPP_JID:
        domain = s.GOVDESK_NOTIFY_XMPP_JID.partition("@")[2]
        found.append(("xmpp", s.GOVDESK_NOTIFY_XMPP_HOST or domain))
    if getattr(s, "GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY", ""):
        for pattern in s.GOVDESK_NOTIFY_WEBPUSH_HOSTS:
            found.append(("webpush", pattern.removeprefix("*.")))
    return found


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


@register()
def channels_inside_allowed_networks(app_configs=None, **kwargs) -> list[Warning]:
    networks = getattr(settings, "GOVDESK_NOTIFY_ALLOWED_NETWORKS", [])
    if not networks:
        return []
    problems: list[Warning] = []
    for channel, host in configured_addresses():
        try:
            addresses = _addresses(host) if host else []
        except OSError:
            addresses = []
        outside = [a for a in addresses if not any(a in n for n in networks)]
        if not addresses or outside:
            problems.append(
                Warning(
                    f"the {channel} channel points at {host or '(no host)'}"
                    + (f" ({', '.join(map(str, outside))})" if outside else " (does not resolve)")
                    + ", outside GOVDESK_NOTIFY_ALLOWED_NETWORKS",
                    hint="Point it at an intranet relay or switch it off "
                    "(docs/notifications.md#zero-internet-profile).",
                    id="notify.W001",
                )
            )
    return problems


# --- The Web Push settings (docs/notifications.md#web-push) --------------------------


@register()
def webpush_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    private_key = settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY
    if private_key:
        try:
            load_vapid_private_key(private_key)
        except ValueError:
            errors.append(
                Error(
                    "GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY is not an EC P-256 private key "
                    "(base64url raw, base64 DER or PEM)",
                    id="notify.E001",
                )
            )
    subject = settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT
    if subject and not subject.startswith(("mailto:", "https:")):
        errors.append(
            Error(
                "GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT must be a mailto: or https: URL (RFC 8292)",
                id="notify.E002",
            )
        )
    return errors
