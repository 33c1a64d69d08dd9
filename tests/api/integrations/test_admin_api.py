"""The city IT admin's view of the connectors and the health block
(docs/integrations.md#health)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.audit.models import AuditEvent
from api.integrations import actions
from api.integrations.models import ReceivedRecord, RecordState
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _dead(source_id: str) -> ReceivedRecord:
    stored, _ = actions.receive("sample", source_id, {"id": source_id}, via="test")
    ReceivedRecord.objects.filter(pk=stored.pk).update(
        state=RecordState.DEAD, dead_at=timezone.now(), last_error="PermanentError: x"
    )
    return stored


def test_health_has_a_block_per_connector(sample):
    actions.connector_row("sample")
    _dead("H-1")
    ReceivedRecord.objects.create(
        connector="sample",
        source_id="H-2",
        payload={},
        via="test",
        received_at=timezone.now() - timezone.timedelta(seconds=120),
    )
    body = APIClient().get("/api/v1/health/").json()
    entry = next(e for e in body["integrations"] if e["name"] == "sample")
    assert entry == {
        "name": "sample",
        "configured": True,
        "last_success_at": None,
        "lag_seconds": entry["lag_seconds"],
        "error_count": 0,
        "dead_letters": 1,
    }
    assert entry["lag_seconds"] >= 120  # the oldest record still waiting


def test_health_says_when_a_connector_is_not_configured(sample, monkeypatch):
    monkeypatch.delenv("GOVDESK_INTEGRATION_SAMPLE_URL")
    body = APIClient().get("/api/v1/health/").json()
    entry = next(e for e in body["integrations"] if e["name"] == "sample")
    assert entry["configured"] is False


def test_the_secret_is_shown_nowhere(sample, personas):
    from tests.api.integrations.conftest import SECRET

    listed = client_for(personas["ivy"]).get("/api/v1/integrations/")
    health = APIClient().get("/api/v1/health/")
    assert SECRET not in listed.content.decode() + health.content.decode()


def test_the_admin_list(sample, personas):
    _dead("L-1")
    response = client_for(personas["ivy"]).get("/api/v1/integrations/")
    assert response.status_code == 200
    entry = next(e for e in response.json()["results"] if e["name"] == "sample")
    assert entry["title"] == "样例系统"
    assert (entry["inbound"], entry["outbound"]) == (True, False)
    assert (entry["pending"], entry["dead_letters"]) == (0, 1)


def test_others_are_refused_and_audited(sample, personas):
    for persona in ("alice", "sam", "bob"):
        assert client_for(personas[persona]).get("/api/v1/integrations/").status_code == 403
    assert (
        AuditEvent.objects.filter(action="integrations.connectors_list", result="denied").count()
        == 3
    )
    response = client_for(personas["alice"]).get("/api/v1/integrations/sample/dead-letters/")
    assert response.status_code == 403


def test_the_list_endpoints_query_counts_do_not_grow(
    sample, personas, django_assert_max_num_queries
):
    ivy = client_for(personas["ivy"])
    _dead("Q-0")
    with django_assert_max_num_queries(8):
        assert ivy.get("/api/v1/integrations/").status_code == 200
    # Reading dead letters is audited: the chain head's lock, the event, the head (and
    # on the first event ever, the head's creation).
    with django_assert_max_num_queries(13):
        assert ivy.get("/api/v1/integrations/sample/dead-letters/").status_code == 200
    for n in range(1, 30):
        _dead(f"Q-{n}")
    with django_assert_max_num_queries(8):
        assert ivy.get("/api/v1/integrations/").status_code == 200
    with django_assert_max_num_queries(13):
        page = ivy.get("/api/v1/integrations/sample/dead-letters/?page_size=20")
    assert len(page.json()["results"]) == 20
    assert page.json()["next"]
    viewed = AuditEvent.objects.filter(action="integrations.dead_letters_viewed").last()
    assert viewed is not None and viewed.actor_id == personas["ivy"].pk
    assert len(viewed.detail["records"]) == 20
