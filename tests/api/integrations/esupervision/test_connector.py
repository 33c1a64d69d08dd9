"""The e-supervision connector on the layer: signed webhooks against the real view, the
pull of the fake's event list with a cursor, dead letters for events that cannot be
applied (docs/integrations.md#e-supervision)."""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from api.integrations import actions
from api.integrations.esupervision.models import ServiceItem, StageEvent, UnitCode
from api.integrations.models import ReceivedRecord
from api.integrations.testing import configure, post_webhook, process_all, run_fake
from cityfakes.esupervision import EventSource, FakeContext, make
from tests.api.integrations.esupervision.conftest import event, march

SECRET = "esup-secret"


def test_webhook_events_are_applied_once(org, personas, client, monkeypatch):
    configure(monkeypatch, "esupervision", "http://127.0.0.1:9/", SECRET)
    one = event("E1", "accept", march(2, 10))
    response = post_webhook(client, "esupervision", one, SECRET)
    assert response.status_code == 202
    response = post_webhook(client, "esupervision", {"events": [one, one]}, SECRET)
    assert response.status_code == 202
    process_all()
    assert StageEvent.objects.count() == 1
    assert ServiceItem.objects.get().accept_at == march(2, 10)


def test_a_bad_signature_is_refused(org, personas, client, monkeypatch):
    configure(monkeypatch, "esupervision", "http://127.0.0.1:9/", SECRET)
    response = post_webhook(client, "esupervision", event("E1", "accept", march(2, 10)), "nope")
    assert response.status_code == 401
    assert not ReceivedRecord.objects.exists()


def test_an_event_without_event_id_is_400(org, personas, client, monkeypatch):
    configure(monkeypatch, "esupervision", "http://127.0.0.1:9/", SECRET)
    body = {k: v for k, v in event("E1", "accept", march(2, 10)).items() if k != "event_id"}
    assert post_webhook(client, "esupervision", body, SECRET).status_code == 400


def test_an_unknown_unit_is_a_dead_letter_replayed_after_mapping(
    org, personas, client, monkeypatch
):
    configure(monkeypatch, "esupervision", "http://127.0.0.1:9/", SECRET)
    unknown = event("E1", "accept", march(2, 10), unit_code="X9")
    post_webhook(client, "esupervision", unknown, SECRET)
    process_all()
    record = ReceivedRecord.objects.get()
    assert record.state == "dead"
    assert "X9" in record.last_error
    UnitCode.objects.create(code="X9", unit=org.bureau)
    actions.replay(record.pk, personas["ivy"])
    process_all()
    assert ServiceItem.objects.get().unit == org.bureau


def test_pull_reads_the_fakes_list_with_a_cursor(org, personas, monkeypatch):
    events = [
        event(f"P{n}", stage, march(2 + n, 10), item=f"SP-{n}")
        for n, stage in enumerate(["accept"] * 5)
    ]
    source = EventSource(events, secret=SECRET)
    source.fail_next = 2  # the system is down twice, then recovers
    with run_fake(lambda: source) as url:
        configure(monkeypatch, "esupervision", url, SECRET)
        for _ in range(6):
            try:
                actions.pull("esupervision")
            except Exception:
                continue
        process_all()
        assert StageEvent.objects.count() == 5
        source.add([event("P9", "complete", march(9, 10), item="SP-0")])
        actions.pull("esupervision")
        process_all()
    assert StageEvent.objects.count() == 6
    assert ServiceItem.objects.get(external_id="SP-0").stage == "complete"


def test_the_fake_refuses_unsigned_requests():
    from cityfakes.server import Request

    source = EventSource([], secret=SECRET)
    status, _ = source(Request("GET", "/events", {}, {}, b""))
    assert status == 401
    assert EventSource([])(Request("GET", "/events", {"after": "x"}, {}, b""))[0] == 400


def test_the_demo_fake_holds_events_of_the_demo_units():
    source = make(FakeContext("esupervision", SECRET))
    page = source.page("", 500)
    assert page["events"] and not page["more"]
    codes = {e["unit_code"] for e in page["events"]}
    assert codes <= {"XC-SJ", "XC-ZR", "XC-WJ", "XC-GA", "XC-YC-OFF"}


@pytest.mark.parametrize("name", ["esupervision"])
def test_the_connector_is_registered(name):
    from api.integrations import registry

    spec = registry.get(name)
    assert spec.title == "电子监察" and spec.pull is not None
    assert AuditEvent is not None
