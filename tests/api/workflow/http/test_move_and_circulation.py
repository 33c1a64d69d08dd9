"""A unit admin's move to another step and ending a circulation, over HTTP
(docs/mobile-api.md#actions, docs/workflow.md#actions).

POST /api/v1/documents/{id}/move/ and /end-circulation/: opinions are never lost,
denied attempts are audited, another unit's document is a 404, Idempotency-Key.
"""

from __future__ import annotations

import uuid

import pytest

from api.audit.models import AuditEvent
from api.workflow.models import Task, TaskState, WorkflowInstance

pytestmark = pytest.mark.django_db

INCOMING_TEMPLATE = "市政府办公室收文"


def _code(response) -> str:
    return response.json()["error"]["code"]


def _denied(username: str, document_id: int) -> int:
    return AuditEvent.objects.filter(
        actor_username=username, result="denied", object_id=str(document_id)
    ).count()


def _approve(demo, username: str, document_id: int, opinion: str = "") -> None:
    task = demo.todo_for(username, document_id)
    body = {"opinion": opinion} if opinion else {}
    response = demo.client(username).post(
        f"/api/v1/tasks/{task['id']}/approve/", body, format="json"
    )
    assert response.status_code == 200, response.content


def _move(demo, username: str, document_id: int, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return demo.client(username).post(
        f"/api/v1/documents/{document_id}/move/", body, format="json", **headers
    )


def _opinions(demo, document_id: int) -> list[str]:
    response = demo.client("clerk").get(f"/api/v1/documents/{document_id}/trail/")
    assert response.status_code == 200, response.content
    return [entry["opinion"] for entry in response.json()["entries"]]


@pytest.fixture
def countersigning(demo):
    """Reviewed by the director with an opinion, leader1 and leader2 countersigned with
    their own opinions, leader3 still open."""
    document_id = demo.draft()
    demo.submit(document_id)
    _approve(demo, "director", document_id, "核稿：文字已修改，同意。")
    _approve(demo, "leader1", document_id, "同意，请注意资金安排。")
    _approve(demo, "leader2", document_id, "同意此稿")
    return document_id


GIVEN = ("核稿：文字已修改，同意。", "同意，请注意资金安排。", "同意此稿")


def test_unit_admin_moves_forward_and_back_and_every_opinion_stays(demo, countersigning):
    moved = _move(
        demo, "office_admin", countersigning, {"to_step": 3, "reason": "领导出差，直接签发"}
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["current_step_order"] == 3 and moved.json()["state"] == "running"
    assert demo.todo_for("mayor", countersigning)["step"]["kind"] == "sign_off"
    leader3 = Task.objects.get(document_id=countersigning, assignee__username="leader3")
    assert (leader3.state, leader3.action) == (TaskState.CANCELLED, "admin_moved")

    opinions = _opinions(demo, countersigning)
    for opinion in GIVEN:
        assert opinions.count(opinion) == 1, (opinion, opinions)
    event = AuditEvent.objects.get(action="workflow.admin_moved")
    assert event.actor_username == "office_admin"
    assert event.detail["reason"] == "领导出差，直接签发"
    assert (event.detail["from_step"], event.detail["to_step"]) == (2, 3)

    # back to the review: a new round opens, nothing given before disappears
    back = _move(demo, "office_admin", countersigning, {"to_step": 1, "reason": "重新核稿"})
    assert back.status_code == 200, back.content
    assert demo.todo_for("director", countersigning)["step"]["kind"] == "review"
    _approve(demo, "director", countersigning, "复核后同意")
    opinions = _opinions(demo, countersigning)
    for opinion in (*GIVEN, "复核后同意"):
        assert opinions.count(opinion) == 1, (opinion, opinions)
    mayor = Task.objects.get(
        document_id=countersigning, assignee__username="mayor", step_kind="sign_off"
    )
    assert (mayor.state, mayor.action) == (TaskState.CANCELLED, "admin_moved")


def test_move_denials_are_audited_and_another_unit_gets_404(demo, countersigning):
    body = {"to_step": 3, "reason": "x"}
    # the director sees the document but does not administer the unit: 403, recorded
    refused = _move(demo, "director", countersigning, body)
    assert refused.status_code == 403 and _code(refused) == "permission_denied"
    assert AuditEvent.objects.filter(
        action="workflow.admin_move", actor_username="director", result="denied"
    ).exists()
    # the unit admin of another unit: 404 like a missing document, recorded
    hidden = _move(demo, "b_admin", countersigning, body)
    assert hidden.status_code == 404 and _code(hidden) == "not_found"
    assert _denied("b_admin", countersigning) == 1
    assert _move(demo, "office_admin", 999999999, body).status_code == 404
    instance = WorkflowInstance.objects.get(document_id=countersigning)
    assert instance.current_step_order == 2
    assert not AuditEvent.objects.filter(action="workflow.admin_moved").exists()


def test_city_it_admin_may_move(demo, countersigning):
    moved = _move(demo, "admin", countersigning, {"to_step": 3, "reason": "系统故障处理"})
    assert moved.status_code == 200, moved.content
    assert demo.todo_for("mayor", countersigning)["step"]["kind"] == "sign_off"


def test_move_body_and_rule_errors(demo, countersigning):
    unknown = _move(demo, "office_admin", countersigning, {"to_step": 3, "reason": "x", "y": 1})
    assert unknown.status_code == 400 and _code(unknown) == "unknown_field"
    missing = _move(demo, "office_admin", countersigning, {"to_step": 3, "reason": "  "})
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"]
    assert _move(demo, "office_admin", countersigning, {"reason": "x"}).status_code == 400
    nowhere = _move(demo, "office_admin", countersigning, {"to_step": 99, "reason": "x"})
    assert nowhere.status_code == 422 and _code(nowhere) == "step_not_found"
    draft = demo.draft(title="关于未送审文件的通知")
    idle = _move(demo, "office_admin", draft, {"to_step": 1, "reason": "x"})
    assert idle.status_code == 409 and _code(idle) == "instance_not_running"


def test_move_is_idempotent(demo, countersigning):
    key = f"move-{uuid.uuid4()}"
    body = {"to_step": 3, "reason": "领导出差"}
    first = _move(demo, "office_admin", countersigning, body, key)
    again = _move(demo, "office_admin", countersigning, body, key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert AuditEvent.objects.filter(action="workflow.admin_moved").count() == 1
    reused = _move(demo, "office_admin", countersigning, {"to_step": 1, "reason": "x"}, key)
    assert reused.status_code == 422 and _code(reused) == "idempotency_key_reused"


# --- end circulation ---------------------------------------------------------------------


@pytest.fixture
def circulating(demo):
    """An incoming letter at its circulate step (leader1, leader2), sent round by the
    handler office_staff."""
    response = demo.client("clerk").post(
        "/api/v1/documents/",
        {
            "direction": "incoming",
            "title": "关于报送年度工作总结的函",
            "doc_type": "letter",
            "urgency": "normal",
            "body": [{"level": 0, "text": "市政府办公室："}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    document_id = response.json()["id"]
    submitted = demo.client("clerk").post(
        f"/api/v1/documents/{document_id}/submit/",
        {
            "template_id": demo.template_id(INCOMING_TEMPLATE),
            "participants": {
                "handler": demo.id("office_staff"),
                "readers": [demo.id("leader1"), demo.id("leader2")],
            },
        },
        format="json",
    )
    assert submitted.status_code == 201, submitted.content
    for username in ("clerk", "clerk", "director"):
        _approve(demo, username, document_id)
    _approve(demo, "office_staff", document_id, "已按要求报送")
    return document_id


def test_sender_ends_circulation_acknowledgements_stay(demo, circulating):
    leader1 = demo.todo_for("leader1", circulating)
    assert leader1["step"]["kind"] == "circulate"
    acked = demo.client("leader1").post(f"/api/v1/tasks/{leader1['id']}/acknowledge/")
    assert acked.status_code == 200, acked.content

    url = f"/api/v1/documents/{circulating}/end-circulation/"
    # a reader is not the one who sent it round: 403 not_sender, recorded
    refused = demo.client("leader1").post(url)
    assert refused.status_code == 403 and _code(refused) == "not_sender"
    assert AuditEvent.objects.filter(
        action="workflow.end_circulation", actor_username="leader1", result="denied"
    ).exists()
    # another unit's clerk: 404, recorded
    hidden = demo.client("b_clerk").post(url)
    assert hidden.status_code == 404 and _code(hidden) == "not_found"
    assert _denied("b_clerk", circulating) == 1
    assert demo.client("office_staff").post(url, {"x": 1}, format="json").status_code == 400

    key = f"end-{uuid.uuid4()}"
    ended = demo.client("office_staff").post(url, HTTP_IDEMPOTENCY_KEY=key)
    assert ended.status_code == 200, ended.content
    assert ended.json()["current_step_order"] == 6
    replay = demo.client("office_staff").post(url, HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code == 200 and replay.json() == ended.json()
    assert AuditEvent.objects.filter(action="workflow.circulation_ended").count() == 1

    unread = Task.objects.get(document_id=circulating, assignee__username="leader2")
    assert (unread.state, unread.action) == (TaskState.CANCELLED, "circulation_ended")
    assert demo.todo_for("office_staff", circulating)["step"]["kind"] == "reply"
    trail = demo.client("office_staff").get(f"/api/v1/documents/{circulating}/trail/").json()
    acknowledged = [e for e in trail["entries"] if e["action"] == "acknowledge"]
    assert [(e["actor"]["id"], e["opinion"]) for e in acknowledged] == [
        (demo.id("leader1"), "已阅")
    ]
    # the flow moved on: ending it again is refused
    again = demo.client("office_staff").post(url)
    assert again.status_code == 422 and _code(again) == "not_circulation_step"


def test_end_circulation_outside_a_circulation(demo, countersigning):
    response = demo.client("clerk").post(f"/api/v1/documents/{countersigning}/end-circulation/")
    assert response.status_code == 422 and _code(response) == "not_circulation_step"
