"""Builds the delivery channels from settings; one instance per process and config.

Docs: docs/notifications.md#configuration. ``resolve(name)`` returns the channel, or
None with the reason it is not usable (not configured, the optional Web Push module
missing, a service-account file that cannot be read): the worker records that reason
on the outbox row and moves on. Building a channel never raises.
``webpush_endpoint_allowed`` is the one rule for the hosts a Web Push endpoint may be
on (GOVDESK_NOTIFY_WEBPUSH_HOSTS), used by device registration and by the worker.

Instances are cached per process and keyed by a fingerprint of their settings, so a
changed setting (tests, or a re-read configuration) builds a fresh channel, and the
"broken channel" mark (models.ChannelHealth) applies only to the configuration that
failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.conf import settings

from api.notify.models import Channel as ChannelName

logger = logging.getLogger(__name__)


@dataclass
class Resolved:
    name: str
    channel: Any | None
    reason: str = ""
    fingerprint: str = ""
    dead_codes: frozenset[str] = field(default_factory=frozenset)
    # Every permanent error is about the address, never the channel's configuration:
    # Web Push endpoints are URLs the users registered, so any answer (a 400, a 403
    # "VAPID rejected") may come from a server one of them controls, and must not mark
    # the channel broken for everybody (only that device is disabled).
    per_address_failures: bool = False


_cache: dict[str, tuple[str, Resolved]] = {}
_lock = threading.Lock()


def _fingerprint(values: tuple[Any, ...]) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def _config(name: str) -> tuple[Any, ...]:
    s = settings
    if name == ChannelName.FCM:
        return (
            s.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE,
            s.GOVDESK_NOTIFY_FCM_PROJECT_ID,
            s.GOVDESK_NOTIFY_FCM_URL,
        )
    if name == ChannelName.SMS:
        return (
            s.GOVDESK_NOTIFY_SMS_PROVIDER,
            s.GOVDESK_NOTIFY_SMS_KEY_ID,
            s.GOVDESK_NOTIFY_SMS_KEY_SECRET,
            s.GOVDESK_NOTIFY_SMS_SIGN_NAME,
            s.GOVDESK_NOTIFY_SMS_TEMPLATE,
            tuple(s.GOVDESK_NOTIFY_SMS_TEMPLATE_PARAMS),
            s.GOVDESK_NOTIFY_SMS_APP_ID,
            s.GOVDESK_NOTIFY_SMS_REGION,
            s.GOVDESK_NOTIFY_SMS_ENDPOINT,
            *_smpp_config(),
        )
    if name == ChannelName.IM:
        return (
            s.GOVDESK_NOTIFY_IM_WEBHOOK_URL,
            s.GOVDESK_NOTIFY_IM_FLAVOR,
            s.GOVDESK_NOTIFY_IM_SECRET,
        )
    if name == ChannelName.XMPP:
        return (
            s.GOVDESK_NOTIFY_XMPP_JID,
            s.GOVDESK_NOTIFY_XMPP_PASSWORD,
            s.GOVDESK_NOTIFY_XMPP_HOST,
            s.GOVDESK_NOTIFY_XMPP_PORT,
            s.GOVDESK_NOTIFY_XMPP_TLS,
            s.GOVDESK_NOTIFY_XMPP_CA_FILE,
        )
    if name == ChannelName.WEBPUSH:
        return (
            getattr(s, "GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY", ""),
            getattr(s, "GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT", ""),
        )
    raise ValueError(f"unknown channel {name!r}")


def _smpp_config() -> tuple[Any, ...]:
    s = settings
    if s.GOVDESK_NOTIFY_SMS_PROVIDER != "smpp":
        return ()
    return (
        s.GOVDESK_NOTIFY_SMPP_HOST,
        s.GOVDESK_NOTIFY_SMPP_PORT,
        s.GOVDESK_NOTIFY_SMPP_SYSTEM_ID,
        s.GOVDESK_NOTIFY_SMPP_PASSWORD,
        s.GOVDESK_NOTIFY_SMPP_SYSTEM_TYPE,
        s.GOVDESK_NOTIFY_SMPP_SOURCE_ADDR,
        s.GOVDESK_NOTIFY_SMPP_SOURCE_TON,
        s.GOVDESK_NOTIFY_SMPP_SOURCE_NPI,
        s.GOVDESK_NOTIFY_SMPP_DEST_TON,
        s.GOVDESK_NOTIFY_SMPP_DEST_NPI,
        s.GOVDESK_NOTIFY_SMPP_BIND,
        s.GOVDESK_NOTIFY_SMPP_WINDOW,
        s.GOVDESK_NOTIFY_SMPP_RATE,
        s.GOVDESK_NOTIFY_SMPP_ENQUIRE_LINK_SECONDS,
        s.GOVDESK_NOTIFY_SMPP_TIMEOUT_SECONDS,
        s.GOVDESK_NOTIFY_SMPP_RECONNECT_ATTEMPTS,
    )


def smpp_options() -> dict[str, Any]:
    """Where and as whom to bind to the SMSC (the sender and the receipt receiver)."""
    s = settings
    return {
        "host": s.GOVDESK_NOTIFY_SMPP_HOST,
        "port": s.GOVDESK_NOTIFY_SMPP_PORT,
        "system_id": s.GOVDESK_NOTIFY_SMPP_SYSTEM_ID,
        "password": s.GOVDESK_NOTIFY_SMPP_PASSWORD,
        "system_type": s.GOVDESK_NOTIFY_SMPP_SYSTEM_TYPE,
        "timeout": float(s.GOVDESK_NOTIFY_SMPP_TIMEOUT_SECONDS),
        "enquire_link_interval": float(s.GOVDESK_NOTIFY_SMPP_ENQUIRE_LINK_SECONDS),
    }


def xmpp_configured() -> bool:
    return bool(settings.GOVDESK_NOTIFY_XMPP_JID and settings.GOVDESK_NOTIFY_XMPP_PASSWORD)


def jid_for(username: str) -> str:
    """The person's JID (GOVDESK_NOTIFY_XMPP_JID_PATTERN; {domain} is the service
    account's domain)."""
    domain = settings.GOVDESK_NOTIFY_XMPP_JID.partition("@")[2].partition("/")[0]
    return settings.GOVDESK_NOTIFY_XMPP_JID_PATTERN.format(username=username.lower(), domain=domain)


def fingerprint(name: str) -> str:
    return _fingerprint((name, *_config(name)))


def _build_fcm() -> Resolved:
    from notifications.channels import fcm

    path = settings.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE
    if not path:
        return Resolved("fcm", None, "fcm_not_configured")
    try:
        account = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Resolved("fcm", None, f"fcm_service_account_unreadable: {type(exc).__name__}")
    if settings.GOVDESK_NOTIFY_FCM_PROJECT_ID:
        account["project_id"] = settings.GOVDESK_NOTIFY_FCM_PROJECT_ID
    channel = fcm.FcmChannel(account, fcm_url=settings.GOVDESK_NOTIFY_FCM_URL or None)
    return Resolved("fcm", channel, dead_codes=fcm.DEAD_TOKEN_CODES)


def _build_sms() -> Resolved:
    s = settings
    provider = s.GOVDESK_NOTIFY_SMS_PROVIDER
    if provider == "none":
        return Resolved("sms", None, "sms_not_configured")
    if provider == "smpp":
        return _build_smpp()
    if not (s.GOVDESK_NOTIFY_SMS_KEY_ID and s.GOVDESK_NOTIFY_SMS_KEY_SECRET):
        return Resolved("sms", None, "sms_keys_missing")
    optional: dict[str, str] = {}
    if provider == "aliyun":
        from notifications.channels import sms_aliyun

        if s.GOVDESK_NOTIFY_SMS_ENDPOINT:
            optional["endpoint"] = s.GOVDESK_NOTIFY_SMS_ENDPOINT
        if s.GOVDESK_NOTIFY_SMS_REGION:
            optional["region_id"] = s.GOVDESK_NOTIFY_SMS_REGION
        aliyun = sms_aliyun.AliyunSmsChannel(
            access_key_id=s.GOVDESK_NOTIFY_SMS_KEY_ID,
            access_key_secret=s.GOVDESK_NOTIFY_SMS_KEY_SECRET,
            sign_name=s.GOVDESK_NOTIFY_SMS_SIGN_NAME,
            template_code=s.GOVDESK_NOTIFY_SMS_TEMPLATE,
            **optional,  # type: ignore[arg-type]
        )
        return Resolved("sms", aliyun, dead_codes=sms_aliyun.DEAD_NUMBER_CODES)
    from notifications.channels import sms_tencent

    if s.GOVDESK_NOTIFY_SMS_ENDPOINT:
        optional["endpoint"] = s.GOVDESK_NOTIFY_SMS_ENDPOINT
    if s.GOVDESK_NOTIFY_SMS_REGION:
        optional["region"] = s.GOVDESK_NOTIFY_SMS_REGION
    tencent = sms_tencent.TencentSmsChannel(
        secret_id=s.GOVDESK_NOTIFY_SMS_KEY_ID,
        secret_key=s.GOVDESK_NOTIFY_SMS_KEY_SECRET,
        sms_sdk_app_id=s.GOVDESK_NOTIFY_SMS_APP_ID,
        sign_name=s.GOVDESK_NOTIFY_SMS_SIGN_NAME,
        template_id=s.GOVDESK_NOTIFY_SMS_TEMPLATE,
        param_names=tuple(s.GOVDESK_NOTIFY_SMS_TEMPLATE_PARAMS),
        **optional,  # type: ignore[arg-type]
    )
    return Resolved("sms", tencent, dead_codes=sms_tencent.DEAD_NUMBER_CODES)


def _build_smpp() -> Resolved:
    from notifications.channels import sms_smpp

    s = settings
    if not (s.GOVDESK_NOTIFY_SMPP_HOST and s.GOVDESK_NOTIFY_SMPP_SYSTEM_ID):
        return Resolved("sms", None, "smpp_not_configured")
    on_receipt: Callable[[sms_smpp.Receipt], None] | None = None
    if s.GOVDESK_NOTIFY_SMPP_BIND == "transceiver":
        from api.notify.receipts import record_receipt

        def on_receipt(receipt: sms_smpp.Receipt) -> None:
            record_receipt(receipt)

    options = smpp_options()
    channel = sms_smpp.SmppSmsChannel(
        options.pop("host"),
        options.pop("port"),
        options.pop("system_id"),
        options.pop("password"),
        source_addr=s.GOVDESK_NOTIFY_SMPP_SOURCE_ADDR,
        source_addr_ton=s.GOVDESK_NOTIFY_SMPP_SOURCE_TON,
        source_addr_npi=s.GOVDESK_NOTIFY_SMPP_SOURCE_NPI,
        dest_addr_ton=s.GOVDESK_NOTIFY_SMPP_DEST_TON,
        dest_addr_npi=s.GOVDESK_NOTIFY_SMPP_DEST_NPI,
        bind="transceiver" if s.GOVDESK_NOTIFY_SMPP_BIND == "transceiver" else "transmitter",
        sign_name=s.GOVDESK_NOTIFY_SMS_SIGN_NAME,
        window=s.GOVDESK_NOTIFY_SMPP_WINDOW,
        rate=float(s.GOVDESK_NOTIFY_SMPP_RATE),
        reconnect_attempts=s.GOVDESK_NOTIFY_SMPP_RECONNECT_ATTEMPTS,
        on_receipt=on_receipt,
        **options,
    )
    return Resolved("sms", channel, dead_codes=sms_smpp.DEAD_NUMBER_CODES)


def _build_xmpp() -> Resolved:
    from notifications.channels import xmpp

    s = settings
    if not xmpp_configured():
        return Resolved("xmpp", None, "xmpp_not_configured")
    tls: Literal["starttls", "direct", "none"] = (
        "none" if s.GOVDESK_NOTIFY_XMPP_TLS == "none"
        else "direct" if s.GOVDESK_NOTIFY_XMPP_TLS == "direct"
        else "starttls"
    )  # fmt: skip
    channel = xmpp.XmppChannel(
        s.GOVDESK_NOTIFY_XMPP_JID,
        s.GOVDESK_NOTIFY_XMPP_PASSWORD,
        host=s.GOVDESK_NOTIFY_XMPP_HOST,
        port=s.GOVDESK_NOTIFY_XMPP_PORT,
        tls=tls,
        ca_file=s.GOVDESK_NOTIFY_XMPP_CA_FILE,
    )
    return Resolved("xmpp", channel, dead_codes=xmpp.DEAD_JID_CODES)


def _build_im() -> Resolved:
    from notifications.channels import im_webhook

    if not settings.GOVDESK_NOTIFY_IM_WEBHOOK_URL:
        return Resolved("im", None, "im_not_configured")
    flavor: Literal["wecom", "dingtalk"] = (
        "dingtalk" if settings.GOVDESK_NOTIFY_IM_FLAVOR == "dingtalk" else "wecom"
    )
    channel = im_webhook.ImWebhookChannel(
        flavor=flavor,
        secret=settings.GOVDESK_NOTIFY_IM_SECRET or None,
    )
    return Resolved("im", channel)


def _build_webpush() -> Resolved:
    key = getattr(settings, "GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY", "")
    subject = getattr(settings, "GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT", "")
    if not key or not subject:
        return Resolved("webpush", None, "webpush_not_configured")
    try:
        # Built by the live-channel work (docs/notifications.md#web-push); optional here.
        from notifications.channels import webpush
    except ImportError:
        return Resolved("webpush", None, "webpush_channel_unavailable")
    channel = webpush.WebPushChannel(
        vapid_private_key=key,
        vapid_subject=subject,
        allow_loopback_http=not settings.PRODUCTION,
    )
    dead = frozenset(getattr(webpush, "DEAD_SUBSCRIPTION_CODES", ()))
    return Resolved("webpush", channel, dead_codes=dead, per_address_failures=True)


# --- where a Web Push endpoint may point (docs/notifications.md#web-push) ----------------------

# One DNS label; a host made of anything else (an IPv6 literal, a backslash or a percent
# sign that another URL parser may read differently) matches no pattern.
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def loopback_endpoints_allowed() -> bool:
    """Outside production (DEBUG, the demo, tests) a Web Push endpoint may be on a
    loopback host: the local test receiver (notifications/fakes)."""
    return bool(settings.DEBUG) or settings.MODE in ("development", "test")


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """``host`` is one ``patterns`` allows: ``push.example.org`` that host exactly,
    ``*.example.org`` any host below example.org (not example.org itself). Case and a
    trailing dot do not matter; a host that is not a DNS name (an IP-address literal
    included) matches nothing."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if len(host) > 253 or labels[-1].isdigit() or not all(map(_DNS_LABEL.match, labels)):
        return False
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):  # pattern[1:] is ".example.org"
                return True
        elif host == pattern:
            return True
    return False


def webpush_endpoint_allowed(endpoint: str) -> bool:
    """The worker may POST to ``endpoint``: its host is one GOVDESK_NOTIFY_WEBPUSH_HOSTS
    allows (or loopback, outside production). Checked at registration and again before
    each send, so narrowing the setting also stops devices registered before."""
    try:
        host = urllib.parse.urlsplit(endpoint).hostname or ""
    except ValueError:
        return False
    if loopback_endpoints_allowed() and host in LOOPBACK_HOSTS:
        return True
    return host_matches(host, settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS)


_BUILDERS: dict[str, Callable[[], Resolved]] = {
    ChannelName.FCM: _build_fcm,
    ChannelName.SMS: _build_sms,
    ChannelName.IM: _build_im,
    ChannelName.XMPP: _build_xmpp,
    ChannelName.WEBPUSH: _build_webpush,
}


def resolve(name: str) -> Resolved:
    """The channel for ``name`` under the current settings (cached per process)."""
    current = fingerprint(name)
    with _lock:
        cached = _cache.get(name)
        if cached is not None and cached[0] == current:
            return cached[1]
        try:
            resolved = _BUILDERS[name]()
        except Exception as exc:  # a bad key file or option must not crash the worker
            logger.exception("building the %s channel failed", name)
            resolved = Resolved(name, None, f"{name}_build_failed: {type(exc).__name__}")
        resolved.fingerprint = current
        if cached is not None:
            _close(cached[1])
        _cache[name] = (current, resolved)
        return resolved


def _close(resolved: Resolved) -> None:
    close = getattr(resolved.channel, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing an old channel is best effort
            logger.warning("closing the old %s channel failed", resolved.name, exc_info=True)


def reset() -> None:
    """Forget every built channel (tests; a worker re-reading its configuration)."""
    with _lock:
        for _, resolved in _cache.values():
            _close(resolved)
        _cache.clear()
