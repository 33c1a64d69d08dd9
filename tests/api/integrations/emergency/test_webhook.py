"""An emergency event through the real webhook: signed by the fake command system,
received by the layer, processed right after commit (eagerly here, by the worker in a
deployment) — the duty officer's notification is in their list when the webhook's
processing has run; no clock is involved. Docs: docs/integrations.md#emergency."""

from __future__ import annotations

import time

import pytest
from celery import current_app
from rest_framework.test import APIClient

from api.audit.models import AuditEvent
from api.integrations.emergency.models import HandlingRecord
from api.integrations.models import ReceivedRecord
from api.integrations.testing import configure, post_webhook, process_all
from api.notify.models import Notification
from tests.api.integrations.emergency.helpers import event, put_on_duty_now
from tests.personas import client_for

pytestmark = pytest.mark.django_db
SECRET = "emergency-test-secret"


@pytest.fixture
def on_duty(org, personas, settings, monkeypatch):
    settings.GOVDESK_EMERGENCY_DUTY_UNIT = org.office.code
    configure(monkeypatch, "emergency", "http://127.0.0.1:9/", SECRET)
    put_on_duty_now(org.office, personas["bob"], personas["alice"])
    return personas["bob"]


def test_an_event_is_in_the_officers_list_when_the_webhook_returns(
    on_duty, monkeypatch, django_capture_on_commit_callbacks
):
    # Processing is the task sent after commit; eager here, as a worker would run it.
    monkeypatch.setitem(current_app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(APIClient(), "emergency", event("YJ100"), SECRET)
    assert response.status_code == 202, response.content
    listed = client_for(on_duty).get("/api/v1/notifications/").json()["results"]
    assert [(n["urgency"], n["title"]) for n in listed] == [
        ("very_urgent", "【应急】道路塌陷（较大）人民路与建设街交叉口")
    ]
    assert HandlingRecord.objects.get().event_id == "YJ100"


def test_updates_through_the_webhook_out_of_order_and_repeated(on_duty):
    client = APIClient()
    now = int(time.time())
    for attempt, sequence in enumerate((1, 3, 2, 3, 2)):
        # A resend is a new request (its own timestamp, so not a replayed signature).
        body = event("YJ200", sequence)
        response = post_webhook(client, "emergency", body, SECRET, timestamp=now - attempt)
        assert response.status_code == 202, response.content
    assert ReceivedRecord.objects.filter(connector="emergency").count() == 3  # each once
    assert process_all("emergency") == 3
    record = HandlingRecord.objects.get()
    assert list(record.updates.values_list("sequence", flat=True)) == [1, 2, 3]
    assert Notification.objects.filter(recipient=on_duty).count() == 3


def test_a_batch_body_and_a_bad_signature(on_duty):
    client = APIClient()
    body = {"events": [event("YJ300", 1), event("YJ300", 2)]}
    assert post_webhook(client, "emergency", body, SECRET).json() == {"received": 2, "new": 2}
    refused = post_webhook(client, "emergency", event("YJ301"), "not-the-secret")
    assert refused.status_code == 401
    assert AuditEvent.objects.filter(action="integrations.webhook_refused").count() == 1
    process_all("emergency")
    assert list(HandlingRecord.objects.values_list("event_id", flat=True)) == ["YJ300"]
