"""The fake command system against a live GovDesk: its signed webhooks are accepted and
its trigger endpoint starts an event. Docs: docs/integrations.md#emergency."""

from __future__ import annotations

import json
import urllib.request

import pytest

from api.integrations.emergency.models import HandlingRecord
from api.integrations.testing import configure, process_all, run_fake
from cityfakes.emergency import EmergencyCommandFake, make
from cityfakes.server import FakeContext
from tests.api.integrations.emergency.helpers import put_on_duty_now

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "emergency-fake-secret"


def test_the_fake_pushes_signed_events_and_updates(
    live_server, org, personas, settings, monkeypatch
):
    settings.GOVDESK_EMERGENCY_DUTY_UNIT = org.office.code
    configure(monkeypatch, "emergency", "http://127.0.0.1:9/", SECRET)
    put_on_duty_now(org.office, personas["bob"], personas["alice"])
    system = make(FakeContext("emergency", SECRET, live_server.url))
    assert isinstance(system, EmergencyCommandFake)
    with run_fake(lambda: system) as url:
        request = urllib.request.Request(url + "/trigger", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            sent = json.loads(answer.read())
        assert sent["govdesk_status"] == 202
        event_id = sent["event"]["event_id"]
        _, status = system.update(event_id, level="II", summary="续报：范围扩大。")
        assert status == 202
        assert system.post(system.events[event_id], secret="wrong") == 401
    process_all("emergency")
    record = HandlingRecord.objects.get(event_id=event_id)
    assert (record.sequence, record.level) == (2, "II")
