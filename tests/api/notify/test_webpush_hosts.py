"""Web Push endpoints only on the push services GOVDESK_NOTIFY_WEBPUSH_HOSTS lists.

Docs: docs/notifications.md#web-push. The worker POSTs to the endpoint a user
registered; a DNS name of the user's choosing may resolve to an intranet host, so
registration refuses any host no pattern allows, and the worker checks again before
sending (a device registered before the setting was narrowed is skipped, not sent).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from api.env import Env
from api.notify import delivery, registry
from api.notify.actions import notify, register_device
from api.notify.models import ChannelHealth, Delivery, DeliveryState, Device
from api.settings import _webpush_host_pattern
from notifications.channels.base import Result
from tests.api.notify.conftest import webpush_subscription
from tests.personas import client_for

pytestmark = pytest.mark.django_db

DEFAULT_HOSTS = [
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "*.push.apple.com",
    "web.push.apple.com",
]
RELAY = "push-relay.xincheng.gov.cn"


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("fcm.googleapis.com", ["fcm.googleapis.com"], True),
        ("FCM.GoogleAPIs.com.", ["fcm.googleapis.com"], True),  # case, trailing dot
        ("xfcm.googleapis.com", ["fcm.googleapis.com"], False),  # exact means exact
        ("xfcm.googleapis.com", ["*.googleapis.com"], True),  # any host below
        ("a.b.googleapis.com", ["*.googleapis.com"], True),
        ("googleapis.com", ["*.googleapis.com"], False),  # not the domain itself
        ("xgoogleapis.com", ["*.googleapis.com"], False),  # a label boundary, not a suffix
        ("evil-fcm.googleapis.com.attacker.net", ["fcm.googleapis.com"], False),
        ("evil-fcm.googleapis.com.attacker.net", ["*.googleapis.com"], False),
        ("fcm.googleapis.com.attacker.net", ["fcm.googleapis.com", "*.googleapis.com"], False),
        ("attacker.net", ["*.googleapis.com"], False),
        (r"evil\.googleapis.com", ["*.googleapis.com"], False),  # not a DNS name
        ("evil%2e.googleapis.com", ["*.googleapis.com"], False),
        ("10.0.0.5", ["*.0.0.5"], False),  # an IP literal is no host name
        ("", ["*.googleapis.com"], False),
        ("fcm.googleapis.com", [], False),  # an empty list allows nothing
    ],
)
def test_host_patterns(host, patterns, allowed):
    assert registry.host_matches(host, patterns) is allowed


def test_the_default_is_the_browsers_push_services(settings):
    assert settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS == DEFAULT_HOSTS


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("Push-Relay.Xincheng.gov.cn.", ["push-relay.xincheng.gov.cn"]),
        (" fcm.googleapis.com , *.push.apple.com ", ["fcm.googleapis.com", "*.push.apple.com"]),
        ("", []),
    ],
)
def test_the_setting_reads_host_names_and_wildcards(raw, parsed):
    env = Env({"GOVDESK_NOTIFY_WEBPUSH_HOSTS": raw})
    assert env.list("GOVDESK_NOTIFY_WEBPUSH_HOSTS", DEFAULT_HOSTS, _webpush_host_pattern) == parsed


@pytest.mark.parametrize(
    "raw", ["*", "*.com", "localhost", "10.0.0.5", "push_relay.gov.cn", "a..gov.cn", "*.*.cn"]
)
def test_the_setting_refuses_what_is_not_a_host_pattern(raw):
    env = Env({"GOVDESK_NOTIFY_WEBPUSH_HOSTS": f"fcm.googleapis.com,{raw}"})
    with pytest.raises(ImproperlyConfigured, match="GOVDESK_NOTIFY_WEBPUSH_HOSTS"):
        env.list("GOVDESK_NOTIFY_WEBPUSH_HOSTS", DEFAULT_HOSTS, _webpush_host_pattern)


def _register(user, endpoint: str):
    sub = webpush_subscription(endpoint)
    return client_for(user).post(
        "/api/v1/me/devices/push/", {"kind": "webpush", "subscription": sub}, format="json"
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/cXyZ:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://api.push.apple.com/3/device/abc",
        "https://FCM.googleapis.com./fcm/send/x",
    ],
)
def test_the_browsers_push_services_register(personas, endpoint):
    response = _register(personas["bob"], endpoint)
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://push.example.gov.cn/sub/abc",  # a DNS name that may resolve anywhere
        "https://evil-fcm.googleapis.com.attacker.net/fcm/send/x",
        "https://fcm.googleapis.com.attacker.net/fcm/send/x",
        "https://xfcm.googleapis.com/fcm/send/x",  # only *.googleapis.com would allow it
        "https://notify.windows.com/w/",  # *.notify.windows.com is the hosts below it
        "https://10.0.0.5/admin/reset",  # test mode used to take any IP address
        "https://wiki.intranet.local/",
    ],
)
@pytest.mark.parametrize("mode", ["test", "production"])
def test_any_other_host_is_refused_in_every_mode(personas, settings, endpoint, mode):
    settings.MODE, settings.DEBUG = mode, False
    response = _register(personas["bob"], endpoint)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "push_endpoint_not_allowed"
    assert not Device.objects.exists()


def test_an_operator_lists_an_on_premises_relay_and_wildcards(personas, settings):
    settings.MODE, settings.DEBUG = "production", False
    settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS = [RELAY, "*.googleapis.com"]
    user = personas["bob"]
    assert _register(user, f"https://{RELAY}/push/1").status_code == 201
    assert _register(user, "https://xfcm.googleapis.com/fcm/send/2").status_code == 201
    for refused in (
        "https://googleapis.com/x",
        "https://evil-fcm.googleapis.com.attacker.net/x",
        f"https://x.{RELAY}/push/3",  # an exact host does not cover its subdomains
        "https://updates.push.services.mozilla.com/wpush/v2/x",  # no longer listed
    ):
        response = _register(user, refused)
        assert response.json()["error"]["code"] == "push_endpoint_not_allowed", refused
    assert Device.objects.count() == 2


def test_loopback_stays_allowed_outside_production_whatever_the_list(personas, settings):
    settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS = []
    user = personas["bob"]
    assert _register(user, "http://127.0.0.1:8025/webpush/x").status_code == 201
    assert _register(user, "https://fcm.googleapis.com/fcm/send/x").status_code == 400


class RecordingChannel:
    """Stands in for the Web Push channel: records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, messages):
        self.sent.extend(m.recipient for m in messages)
        return [Result.success(m, provider_message_id="accepted") for m in messages]


@pytest.fixture
def channel(monkeypatch):
    recording = RecordingChannel()
    resolved = registry.Resolved(
        "webpush", recording, fingerprint="test", per_address_failures=True
    )
    real_resolve = registry.resolve
    monkeypatch.setattr(
        registry, "resolve", lambda name: resolved if name == "webpush" else real_resolve(name)
    )
    return recording


def test_the_worker_skips_a_device_whose_host_is_no_longer_allowed(demo, settings, channel):
    settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS = [*DEFAULT_HOSTS, RELAY]
    kept_user, relay_user = demo.user("leader1"), demo.user("leader2")
    kept, _ = register_device(kept_user, kind="webpush", subscription=webpush_subscription())
    relayed, _ = register_device(
        relay_user, kind="webpush", subscription=webpush_subscription(f"https://{RELAY}/p/1")
    )
    # The relay is dropped from the list after the device was registered.
    settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS = DEFAULT_HOSTS
    for user, key in ((kept_user, "n:1"), (relay_user, "n:2")):
        notify(recipient=user, kind="system", title="待办", dedup_key=key)
    assert delivery.deliver(None) == {"ok": 1, "skipped": 1}
    assert len(channel.sent) == 1 and RELAY not in channel.sent[0]
    row = Delivery.objects.get(device=relayed)
    assert row.state == DeliveryState.SKIPPED and row.error_code == "endpoint_not_allowed"
    assert Delivery.objects.get(device=kept).state == DeliveryState.SENT
    # Not the device's fault nor the channel's: both stay on, so listing the relay
    # again makes the next notification go out.
    relayed.refresh_from_db()
    assert relayed.enabled and relayed.disabled_reason == ""
    assert not ChannelHealth.objects.exists()
    settings.GOVDESK_NOTIFY_WEBPUSH_HOSTS = [*DEFAULT_HOSTS, RELAY]
    notify(recipient=relay_user, kind="system", title="待办", dedup_key="n:3")
    assert delivery.deliver(None) == {"ok": 1}
    assert RELAY in channel.sent[-1]


def test_the_worker_sends_to_loopback_only_outside_production(demo, settings, channel):
    user = demo.user("leader1")
    device, _ = register_device(
        user, kind="webpush", subscription=webpush_subscription("http://127.0.0.1:9/x")
    )
    settings.MODE, settings.DEBUG = "production", False
    notify(recipient=user, kind="system", title="待办", dedup_key="n:1")
    assert delivery.deliver(None) == {"skipped": 1}
    assert Delivery.objects.get(device=device).error_code == "endpoint_not_allowed"
    assert channel.sent == []
