"""Records stored once, processed once, retried with backoff, dead letters and their
replay (docs/integrations.md#retries-and-dead-letters)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.audit.models import AuditEvent
from api.integrations import actions, tasks
from api.integrations.models import Connector, ReceivedRecord, RecordState
from api.integrations.testing import process_all
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_duplicate_source_ids_are_stored_once(sample):
    first, created = actions.receive("sample", "A-1", {"id": "A-1", "n": 1}, via="test")
    again, created_again = actions.receive("sample", "A-1", {"id": "A-1", "n": 2}, via="test")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.payload == {"id": "A-1", "n": 1}  # the first copy is the one kept
    assert ReceivedRecord.objects.filter(connector="sample").count() == 1
    assert process_all() == 1
    assert sample.applied == {"A-1": 1}


def test_transient_errors_are_retried_with_backoff_and_nothing_is_lost(sample, settings):
    settings.GOVDESK_INTEGRATION_MAX_ATTEMPTS = 6
    settings.GOVDESK_INTEGRATION_RETRY_BASE_SECONDS = 30
    sample.transient_failures = 3
    stored, _ = actions.receive("sample", "B-1", {"id": "B-1"}, via="test")
    Connector.objects.create(name="sample")

    waits = []
    for _ in range(3):
        before = timezone.now()
        assert actions.process(stored.pk, force=True) == "retry"
        stored.refresh_from_db()
        assert stored.state == RecordState.PENDING
        waits.append(round((stored.next_attempt_at - before).total_seconds() / 30))
        # Not due yet: an unforced run (the task, the sweep) leaves it alone.
        assert actions.process(stored.pk) == "skipped"
    assert waits == [1, 2, 4]  # exponential backoff
    assert Connector.objects.get(name="sample").error_count == 3

    assert actions.process(stored.pk, force=True) == "done"
    stored.refresh_from_db()
    assert (stored.state, stored.attempts) == (RecordState.DONE, 4)
    assert sample.applied == {"B-1": 1}
    assert Connector.objects.get(name="sample").error_count == 0
    # Done is final: another run, forced or not, handles nothing again.
    assert actions.process(stored.pk, force=True) == "skipped"
    assert tasks.process_record(stored.pk) == "skipped"
    assert sample.applied == {"B-1": 1}


def test_the_sweep_takes_records_whose_retry_time_came(sample):
    sample.transient_failures = 1
    stored, _ = actions.receive("sample", "C-1", {"id": "C-1"}, via="test")
    assert tasks.sweep() == 0  # first attempt fails
    stored.refresh_from_db()
    assert stored.state == RecordState.PENDING
    assert tasks.sweep() == 0  # not due yet
    ReceivedRecord.objects.filter(pk=stored.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.sweep() == 1
    assert tasks.sweep() == 0  # run twice: nothing twice
    assert sample.applied == {"C-1": 1}


def test_retry_limit_makes_a_dead_letter_an_admin_replays(sample, settings, personas):
    settings.GOVDESK_INTEGRATION_MAX_ATTEMPTS = 3
    sample.transient_failures = 10
    stored, _ = actions.receive("sample", "D-1", {"id": "D-1"}, via="test")
    process_all()
    stored.refresh_from_db()
    assert stored.state == RecordState.DEAD
    assert stored.attempts == 3
    assert "gave up after 3 attempts" in stored.last_error
    assert AuditEvent.objects.filter(action="integrations.record_dead").count() == 1

    ivy = client_for(personas["ivy"])
    listed = ivy.get("/api/v1/integrations/sample/dead-letters/")
    assert listed.status_code == 200
    assert [r["source_id"] for r in listed.json()["results"]] == ["D-1"]

    # Someone else may not replay it.
    refused = client_for(personas["alice"]).post(
        f"/api/v1/integrations/dead-letters/{stored.pk}/replay/"
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"

    sample.transient_failures = 0
    replayed = ivy.post(f"/api/v1/integrations/dead-letters/{stored.pk}/replay/")
    assert replayed.status_code == 200, replayed.content
    assert replayed.json()["state"] == "pending"
    event = AuditEvent.objects.get(action="integrations.dead_letter_replayed")
    assert event.actor_id == personas["ivy"].pk
    assert event.detail["source_id"] == "D-1"
    # A second replay finds nothing dead.
    again = ivy.post(f"/api/v1/integrations/dead-letters/{stored.pk}/replay/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "dead_letter_not_dead"

    assert process_all() == 1
    stored.refresh_from_db()
    assert (stored.state, stored.replays) == (RecordState.DONE, 1)
    assert sample.applied == {"D-1": 1}
    assert not ivy.get("/api/v1/integrations/sample/dead-letters/").json()["results"]


def test_a_permanent_error_or_a_bug_is_a_dead_letter_at_once(sample):
    sample.permanent = True
    one, _ = actions.receive("sample", "E-1", {"id": "E-1"}, via="test")
    assert actions.process(one.pk) == "dead"
    sample.permanent = False
    sample.crash = True
    two, _ = actions.receive("sample", "E-2", {"id": "E-2"}, via="test")
    assert actions.process(two.pk) == "dead"
    two.refresh_from_db()
    assert two.attempts == 1
    assert two.last_error.startswith("ValueError")
    assert sample.calls == 2


def test_a_failing_handler_leaves_no_writes(sample, personas):
    from api.accounts.models import Unit

    def handle(source_id, payload):
        Unit.objects.filter(pk=personas["bob"].unit_id).update(name="changed")
        raise ValueError("after a write")

    from api.integrations import registry

    registry.register(registry.ConnectorSpec(name="sample", title="样例", handle=handle))
    stored, _ = actions.receive("sample", "F-1", {"id": "F-1"}, via="test")
    assert actions.process(stored.pk) == "dead"
    assert Unit.objects.get(pk=personas["bob"].unit_id).name != "changed"
    stored.refresh_from_db()
    assert stored.state == RecordState.DEAD


def test_a_record_of_a_removed_connector_is_a_dead_letter(sample):
    stored = ReceivedRecord.objects.create(
        connector="gone", source_id="x", payload={}, via="test", received_at=timezone.now()
    )
    assert actions.process(stored.pk) == "dead"


def test_bad_source_ids_are_refused(sample):
    from api.integrations.errors import PermanentError

    for bad in ("", "   ", "x" * 201, "a\x00b"):
        with pytest.raises(PermanentError):
            actions.receive("sample", bad, {}, via="test")
