"""Fixtures of the notification tests. Docs: docs/notifications.md, docs/testing.md.

Re-uses the workflow tests' demo city (``demo``, ``outgoing``) so notifications come
from real workflow actions, and gives a fixed clock and device helpers.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.notify import registry
from notifications.fakes import FcmFake, Journal, aliyun_sms, serve
from tests.api.workflow.conftest import Demo, outgoing  # noqa: F401 (fixtures)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    """An aware datetime in Asia/Shanghai (the quiet hours' time zone)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def fcm_token() -> str:
    """A token shaped like a real FCM registration token (instance id : APA91b…)."""
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(105)}"


def webpush_subscription(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc") -> dict:
    """A browser's PushSubscription.toJSON() (by default on Chrome's push service, one
    GOVDESK_NOTIFY_WEBPUSH_HOSTS allows out of the box)."""
    point = b"\x04" + secrets.token_bytes(64)
    return {
        "endpoint": endpoint,
        "keys": {
            "p256dh": base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
            "auth": base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode(),
        },
    }


@pytest.fixture
def demo(db) -> Demo:
    """The demo city before anyone has been notified: its seeding (mail, schedule,
    meetings) notifies people, and these tests count what one action notifies."""
    import io

    from django.core.management import call_command

    from api.notify.models import Notification

    call_command("seed_demo", stdout=io.StringIO())
    Notification.objects.all().delete()
    return Demo()


@pytest.fixture(autouse=True)
def fresh_channels():
    """Channels are cached per process by configuration; start each test clean."""
    registry.reset()
    yield
    registry.reset()


SMS_KEY_ID, SMS_SECRET = "LTAI5tNotifyTestKey", "notify-test-secret"


@pytest.fixture
def fcm(settings, tmp_path):
    """The loopback FCM v1 fake, and the settings that point the FCM channel at it."""
    fake = FcmFake()
    with serve(fake) as server:
        fake.url = server.url
        account = tmp_path / "fcm-service-account.json"
        account.write_text(json.dumps(fake.service_account()))
        settings.GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE = str(account)
        settings.GOVDESK_NOTIFY_FCM_URL = server.url + "v1/projects/{project_id}/messages:send"
        yield fake


@pytest.fixture
def sms(settings):
    """The loopback Aliyun SMS fake (checks the signature); ``code_for`` makes a number fail."""
    # Non-empty on purpose: the fake replaces an empty mapping with its own, and the
    # tests add failing numbers to this one after the server started.
    code_for: dict[str, str] = {"10000000000": "OK"}
    journal = Journal()
    with serve(aliyun_sms(SMS_KEY_ID, SMS_SECRET, code_for=code_for, journal=journal)) as server:
        server.code_for = code_for  # type: ignore[attr-defined]
        server.journal = journal  # type: ignore[attr-defined]
        settings.GOVDESK_NOTIFY_SMS_PROVIDER = "aliyun"
        settings.GOVDESK_NOTIFY_SMS_KEY_ID = SMS_KEY_ID
        settings.GOVDESK_NOTIFY_SMS_KEY_SECRET = SMS_SECRET
        settings.GOVDESK_NOTIFY_SMS_SIGN_NAME = "某市政务办公"
        settings.GOVDESK_NOTIFY_SMS_TEMPLATE = "SMS_465000001"
        settings.GOVDESK_NOTIFY_SMS_ENDPOINT = server.url
        yield server


def sms_sent(server) -> list[dict]:
    """The SMS the fake accepted (signature and keys right): recipient, params, out_id."""
    return server.journal.since(0, "aliyun_sms")


__all__ = ["Demo", "fcm_token", "local", "sms_sent", "webpush_subscription"]
