"""One-tap countersign with a passkey step-up: the server verifies the WebAuthn
assertion (py_webauthn, user verification) before it records the approval.

Docs: docs/workflow.md#step-up-with-a-passkey, docs/mobile-api.md. The authenticator is
the software one of tests/softauthn.py; the demo city comes from ``seed_demo``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.accounts.models import Passkey
from api.audit.models import AuditEvent
from api.workflow import actions
from api.workflow.models import Task, TaskState
from tests.personas import client_for
from tests.softauthn import SoftAuthenticator

pytestmark = pytest.mark.django_db


class Person:
    """A demo user signed in on one device, with a registered passkey."""

    def __init__(self, user) -> None:
        self.user = user
        self.client: APIClient = client_for(user)
        self.key = SoftAuthenticator()
        options = self.client.post("/api/v1/me/passkeys/registration-options/", {}, format="json")
        body = options.json()
        response = self.client.post(
            "/api/v1/me/passkeys/",
            {"challenge_id": body["challenge_id"], "credential": self.key.create(body["options"])},
            format="json",
        )
        assert response.status_code == 201, response.content

    def options(self, task_id: int):
        return self.client.post(f"/api/v1/tasks/{task_id}/step-up-options/", {}, format="json")

    def challenge(self, task_id: int) -> tuple[dict, str]:
        response = self.options(task_id)
        assert response.status_code == 200, response.content
        return response.json()["options"], response.json()["challenge_id"]

    def approve(self, task_id: int, webauthn: dict | None = None, **body):
        if webauthn is not None:
            body["webauthn"] = webauthn
        return self.client.post(f"/api/v1/tasks/{task_id}/approve/", body, format="json")


def open_task_of(username: str, document) -> Task:
    """Approve the document's earlier steps until ``username`` has the open task."""
    for _ in range(10):
        task = Task.objects.filter(document=document, state=TaskState.OPEN).first()
        assert task is not None
        mine = Task.objects.filter(
            document=document, state=TaskState.OPEN, assignee__username=username
        ).first()
        if mine is not None:
            return mine
        actions.approve(task.pk, task.assignee)
    raise AssertionError(f"{username} never got a task")


@pytest.fixture
def leader1(demo) -> Person:
    return Person(demo.user("leader1"))


@pytest.fixture
def leader2(demo) -> Person:
    return Person(demo.user("leader2"))


@pytest.fixture
def tasks(outgoing):
    """Two documents waiting for the countersign of leader1 (and leader2, leader3)."""
    first, _ = outgoing()
    second, _ = outgoing(title="关于做好2026年防汛工作的通知")
    return open_task_of("leader1", first), open_task_of("leader1", second)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def assert_nothing_recorded(task: Task) -> None:
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.confirmed_with == "" and task.acted_at is None
    assert not AuditEvent.objects.filter(action="task.approved", detail__task_id=task.pk).exists()


def assert_refused(response, task: Task, reason: str) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "step_up_failed"
    assert_nothing_recorded(task)
    assert events("task.step_up_failed")[-1].detail["reason"] == reason


# --- The happy path -------------------------------------------------------------------------


def test_step_up_options_are_bound_and_require_user_verification(leader1, tasks):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    assert [c["id"] for c in options["allowCredentials"]] == [leader1.key.id]
    assert challenge_id


def test_an_approval_confirmed_with_a_passkey_says_so(leader1, tasks, demo):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    response = leader1.approve(task.pk, webauthn, opinion="同意。")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "done" and body["confirmed_with"] == "passkey"
    task.refresh_from_db()
    assert task.confirmed_with == "passkey" and task.opinion == "同意。"
    (event,) = [e for e in events("task.approved") if e.detail["task_id"] == task.pk]
    assert event.detail["confirmed_with"] == "passkey"
    trail = leader1.client.get(f"/api/v1/documents/{task.document_id}/trail/").json()
    mine = [e for e in trail["entries"] if e["task_id"] == task.pk]
    assert mine[0]["confirmed_with"] == "passkey"
    others = [e for e in trail["entries"] if e["task_id"] != task.pk]
    assert others and all(e["confirmed_with"] == "" for e in others)
    detail = leader1.client.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["confirmed_with"] == "passkey"
    assert Passkey.objects.get(user=leader1.user).sign_count == 1


def test_approval_without_webauthn_is_allowed_and_not_marked(leader1, tasks):
    task, _ = tasks
    response = leader1.approve(task.pk)
    assert response.status_code == 200
    assert response.json()["confirmed_with"] == ""
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.confirmed_with == ""
    (event,) = [e for e in events("task.approved") if e.detail["task_id"] == task.pk]
    assert "confirmed_with" not in event.detail


def test_an_idempotent_replay_returns_the_first_answer(leader1, tasks):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    body = {"webauthn": {"challenge_id": challenge_id, "credential": leader1.key.get(options)}}
    url = f"/api/v1/tasks/{task.pk}/approve/"
    key = f"step-up-{uuid.uuid4()}"  # the Redis cache outlives a test run
    first = leader1.client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = leader1.client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["confirmed_with"] == "passkey"


# --- Who may get a challenge ----------------------------------------------------------------


def test_only_the_tasks_actor_gets_options(leader1, leader2, tasks):
    task, _ = tasks
    response = leader2.options(task.pk)  # leader2 has their own task, not this one
    assert response.status_code == 404
    assert leader1.options(999_999).status_code == 404
    assert AuditEvent.objects.filter(action="task.view", result="denied").exists()


def test_options_for_a_closed_task_or_without_a_passkey(leader1, tasks, demo):
    task, other = tasks
    assert leader1.approve(task.pk).status_code == 200
    response = leader1.options(task.pk)
    assert response.status_code == 409 and response.json()["error"]["code"] == "task_not_open"
    Passkey.objects.filter(user=leader1.user).delete()
    response = leader1.options(other.pk)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_passkey"


# --- Refusals: 403 step_up_failed and nothing recorded --------------------------------------


@pytest.mark.parametrize(
    ("knobs", "reason"),
    [
        ({"origin": "https://evil.example"}, "assertion_invalid"),
        ({"rp_id": "evil.example"}, "assertion_invalid"),
        ({"uv": False}, "assertion_invalid"),
        ({"signer": "forged"}, "assertion_invalid"),
    ],
)
def test_assertions_that_do_not_verify_are_refused(leader1, tasks, knobs, reason):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    if knobs.get("signer") == "forged":
        knobs = {"signer": SoftAuthenticator()}
    credential = leader1.key.get(options, **knobs)
    response = leader1.approve(task.pk, {"challenge_id": challenge_id, "credential": credential})
    assert_refused(response, task, reason)
    assert Passkey.objects.get(user=leader1.user).sign_count == 0


def test_a_challenge_is_single_use(leader1, tasks):
    task, other = tasks
    options, challenge_id = leader1.challenge(task.pk)
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    assert leader1.approve(task.pk, webauthn).status_code == 200
    replay = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    assert_refused(leader1.approve(other.pk, replay), other, "challenge_unknown")


def test_a_challenge_for_another_task_is_refused(leader1, tasks):
    task, other = tasks
    options, challenge_id = leader1.challenge(task.pk)
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    assert_refused(leader1.approve(other.pk, webauthn), other, "challenge_task")
    # Spent by the refusal: it cannot be used for its own task afterwards either.
    assert_refused(leader1.approve(task.pk, webauthn), task, "challenge_unknown")


def test_a_challenge_of_another_user_is_refused(leader1, leader2, tasks, demo):
    task, _ = tasks
    their_task = open_task_of("leader2", task.document)
    options, challenge_id = leader2.challenge(their_task.pk)
    # leader1 signs leader2's challenge with leader1's own passkey.
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    assert_refused(leader1.approve(task.pk, webauthn), task, "challenge_user")


def test_another_users_credential_is_refused(leader1, leader2, tasks):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    # A valid assertion by leader2's passkey over leader1's challenge.
    webauthn = {"challenge_id": challenge_id, "credential": leader2.key.get(options)}
    assert_refused(leader1.approve(task.pk, webauthn), task, "credential_not_owned")


def test_a_challenge_of_another_session_is_refused(leader1, tasks):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    other_device = client_for(leader1.user)
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    response = other_device.post(
        f"/api/v1/tasks/{task.pk}/approve/", {"webauthn": webauthn}, format="json"
    )
    assert_refused(response, task, "challenge_session")


def test_an_expired_challenge_is_refused(leader1, tasks, monkeypatch):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    later = timezone.now() + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr("api.accounts.passkeys.timezone.now", lambda: later)
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    assert_refused(leader1.approve(task.pk, webauthn), task, "challenge_expired")


def test_a_counter_regression_is_refused_and_audited_as_a_clone(leader1, tasks):
    task, other = tasks
    options, challenge_id = leader1.challenge(task.pk)
    webauthn = {"challenge_id": challenge_id, "credential": leader1.key.get(options)}
    assert leader1.approve(task.pk, webauthn).status_code == 200  # counter 1
    options, challenge_id = leader1.challenge(other.pk)
    clone = {"challenge_id": challenge_id, "credential": leader1.key.get(options, counter=1)}
    assert_refused(leader1.approve(other.pk, clone), other, "sign_count_regression")
    (event,) = events("passkey.clone_suspected")
    assert event.result == "denied" and event.actor_id == leader1.user.pk


def test_a_malformed_webauthn_member_is_a_400_or_403_never_500(leader1, tasks):
    task, _ = tasks
    for webauthn in (
        {"challenge_id": "x" * 30},
        {"challenge_id": "x" * 30, "credential": "no"},
        {"challenge_id": "x" * 30, "credential": {}, "more": 1},
    ):
        response = leader1.approve(task.pk, webauthn)
        assert response.status_code == 400, response.content
    response = leader1.approve(task.pk, {"challenge_id": "x" * 30, "credential": {"id": 1}})
    assert_refused(response, task, "challenge_unknown")


def test_someone_elses_task_stays_a_404_with_webauthn(leader1, leader2, tasks):
    task, _ = tasks
    options, challenge_id = leader1.challenge(task.pk)
    webauthn = {"challenge_id": challenge_id, "credential": leader2.key.get(options)}
    assert leader2.approve(task.pk, webauthn).status_code == 404
    assert_nothing_recorded(task)
