"""The zero-internet start-up check: channels outside GOVDESK_NOTIFY_ALLOWED_NETWORKS warn.

Docs: docs/notifications.md#zero-internet-profile.
"""

from __future__ import annotations

import ipaddress

from api.notify.checks import channels_inside_allowed_networks

INTRANET = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.0/8")]


def _zero_internet(settings) -> None:
    settings.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE = ""
    settings.GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.GOVDESK_NOTIFY_IM_WEBHOOK_URL = ""
    settings.GOVDESK_NOTIFY_SMS_PROVIDER = "smpp"
    settings.GOVDESK_NOTIFY_SMPP_HOST = "10.20.0.2"
    settings.GOVDESK_NOTIFY_XMPP_JID = "govdesk@im.example"
    settings.GOVDESK_NOTIFY_XMPP_HOST = "127.0.0.1"


def test_unset_checks_nothing(settings):
    settings.GOVDESK_NOTIFY_ALLOWED_NETWORKS = []
    assert channels_inside_allowed_networks() == []


def test_the_zero_internet_profile_passes(settings):
    _zero_internet(settings)
    settings.GOVDESK_NOTIFY_ALLOWED_NETWORKS = INTRANET
    assert channels_inside_allowed_networks() == []


def test_a_channel_outside_the_networks_warns(settings):
    _zero_internet(settings)
    settings.GOVDESK_NOTIFY_ALLOWED_NETWORKS = INTRANET
    settings.GOVDESK_NOTIFY_SMPP_HOST = "203.0.113.7"
    settings.GOVDESK_NOTIFY_IM_WEBHOOK_URL = "http://192.0.2.9/robot/send?access_token=x"
    warnings = channels_inside_allowed_networks()
    assert [w.id for w in warnings] == ["notify.W001", "notify.W001"]
    assert "sms (SMPP) channel points at 203.0.113.7" in warnings[0].msg
    assert "im robot" in warnings[1].msg
