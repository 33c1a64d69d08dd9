"""The Web Push settings are system checks of the notify app (api/notify/checks.py,
docs/notifications.md#web-push)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from api.notify.checks import webpush_settings

pytestmark = pytest.mark.django_db  # the app's autouse fixtures use the database


def ids() -> list[str]:
    return [error.id for error in webpush_settings()]


def test_unset_web_push_settings_pass():
    with override_settings(
        GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY="", GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT=""
    ):
        assert ids() == []


@override_settings(GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY="not a key")
def test_a_vapid_key_that_does_not_load_is_an_error():
    assert ids() == ["notify.E001"]


@override_settings(GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT="it@example.org")
def test_a_subject_that_is_not_mailto_or_https_is_an_error():
    assert ids() == ["notify.E002"]


@override_settings(GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT="mailto:it@example.org")
def test_a_mailto_subject_passes():
    assert ids() == []
