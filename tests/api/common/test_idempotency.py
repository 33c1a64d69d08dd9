"""Idempotency-Key: a repeated request replays the first answer (docs/api.md#idempotency)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.api.common.boom_urls import CounterView
from tests.personas import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.common.boom_urls")]


@pytest.fixture(autouse=True)
def reset_counter():
    CounterView.calls.clear()
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def client(personas):
    return client_for(personas["bob"])


def post(client, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/counter/", body, format="json", **headers)


def test_repeat_with_same_key_replays_without_running_again(client):
    first = post(client, {"x": 1}, key="tap-0001-abcdef")
    second = post(client, {"x": 1}, key="tap-0001-abcdef")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() == {"n": 1}
    assert second["Idempotent-Replayed"] == "true"
    assert len(CounterView.calls) == 1


def test_without_key_each_request_runs(client):
    post(client, {"x": 1})
    post(client, {"x": 1})
    assert len(CounterView.calls) == 2


def test_same_key_with_other_body_is_refused(client):
    post(client, {"x": 1}, key="tap-0002-abcdef")
    response = post(client, {"x": 2}, key="tap-0002-abcdef")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert len(CounterView.calls) == 1


def test_keys_are_per_user(personas):
    post(client_for(personas["bob"]), {"x": 1}, key="tap-0003-abcdef")
    response = post(client_for(personas["alice"]), {"x": 1}, key="tap-0003-abcdef")
    assert response.status_code == 201
    assert len(CounterView.calls) == 2


def test_client_errors_are_replayed_too(client):
    first = post(client, {"fail": "client"}, key="tap-0004-abcdef")
    second = post(client, {"fail": "client"}, key="tap-0004-abcdef")
    assert first.status_code == second.status_code == 400
    assert second.json()["error"]["code"] == "validation_error"
    assert len(CounterView.calls) == 1


@override_settings(DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_server_errors_are_not_remembered(personas):
    client = client_for(personas["bob"])
    client.raise_request_exception = False
    first = post(client, {"fail": "server"}, key="tap-0005-abcdef")
    second = post(client, {"fail": "server"}, key="tap-0005-abcdef")
    assert first.status_code == second.status_code == 500
    assert len(CounterView.calls) == 2


def test_malformed_key(client):
    response = post(client, {"x": 1}, key="bad key!")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert CounterView.calls == []


def test_the_record_commits_with_the_answer(client, personas):
    from api.common.models import IdempotencyRecord

    post(client, {"x": 1}, key="tap-0006-abcdef")
    record = IdempotencyRecord.objects.get(user=personas["bob"], key="tap-0006-abcdef")
    assert (record.status, record.body) == (201, {"n": 1})


def test_same_key_on_another_path_is_refused(client):
    post(client, {"x": 1}, key="tap-0007-abcdef")
    response = client.post(
        "/counter/?other=1", {"x": 1}, format="json", HTTP_IDEMPOTENCY_KEY="tap-0007-abcdef"
    )
    # The query string is not the path: same path, same body → replay.
    assert response["Idempotent-Replayed"] == "true"


def test_an_expired_record_frees_the_key(client, personas):
    from datetime import timedelta

    from django.utils import timezone

    from api.common.models import IdempotencyRecord
    from api.common.tasks import prune_idempotency_records

    post(client, {"x": 1}, key="tap-0008-abcdef")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    second = post(client, {"x": 1}, key="tap-0008-abcdef")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert len(CounterView.calls) == 2
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert prune_idempotency_records() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_after_commit_callback_still_answers_the_committed_result(personas):
    """The broker is down after commit: the client gets the real answer, a retry replays."""
    client = client_for(personas["bob"])
    first = post(client, {"fail": "after_commit"}, key="tap-0009-abcdef")
    assert first.status_code == 201
    second = post(client, {"fail": "after_commit"}, key="tap-0009-abcdef")
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert len(CounterView.calls) == 1
