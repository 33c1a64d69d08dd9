"""Task actions, errors and idempotency over HTTP (docs/mobile-api.md#actions)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def countersigning(demo):
    """A document at the countersign step (leader1–3), returns its id."""
    document_id = demo.draft()
    demo.submit(document_id)
    assert demo.approve("director", demo.todo_for("director", document_id)["id"]).status_code == 200
    return document_id


def _code(response) -> str:
    return response.json()["error"]["code"]


def test_detail_has_body_trail_attachments_and_reasons_and_marks_read(demo, countersigning):
    item = demo.todo_for("leader1", countersigning)
    assert item["unread"] is True
    # Fetched ahead for reading offline (?read=0): the same detail, still unread.
    ahead = demo.client("leader1").get(f"/api/v1/tasks/{item['id']}/?read=0")
    assert ahead.status_code == 200 and ahead.json()["trail"]
    assert demo.todo_for("leader1", countersigning)["unread"] is True
    response = demo.client("leader1").get(f"/api/v1/tasks/{item['id']}/")
    assert response.status_code == 200, response.content
    detail = response.json()
    assert detail["document"]["body"][0]["text"] == "各区县人民政府，市政府各部门："
    assert detail["document"]["drafter"]["id"] == demo.id("clerk")
    assert detail["attachments"] == []
    assert [e["step"]["kind"] for e in detail["trail"]][:1] == ["review"]
    allowed = detail["allowed_actions"]
    assert allowed["approve"] == {"allowed": True}
    assert allowed["acknowledge"]["allowed"] is False
    assert allowed["acknowledge"]["code"] and allowed["acknowledge"]["reason"]
    assert demo.todo_for("leader1", countersigning)["unread"] is False


def test_other_peoples_task_and_other_units_document_are_404(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    other = demo.client("leader2")
    assert other.get(f"/api/v1/tasks/{task['id']}/").status_code == 404
    assert other.post(f"/api/v1/tasks/{task['id']}/approve/").status_code == 404
    moved = other.post(
        f"/api/v1/tasks/{task['id']}/transfer/", {"to_user_id": demo.id("mayor")}, format="json"
    )
    assert moved.status_code == 404
    outsider = demo.client("b_clerk")
    assert outsider.get(f"/api/v1/documents/{countersigning}/trail/").status_code == 404
    assert outsider.post(f"/api/v1/documents/{countersigning}/withdraw/").status_code == 404
    assert outsider.get("/api/v1/tasks/999999999/").status_code == 404


def test_idempotency_key_reused_with_another_body_is_422(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    url = f"/api/v1/tasks/{task['id']}/approve/"
    client = demo.client("leader1")
    key = f"k-{uuid.uuid4()}"
    first = client.post(url, {"opinion": "同意。"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200
    other = client.post(url, {"opinion": "不同意"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 422
    assert _code(other) == "idempotency_key_reused"
    trail = demo.client("clerk").get(f"/api/v1/documents/{countersigning}/trail/").json()
    assert [e["opinion"] for e in trail["entries"] if e["actor"]["id"] == demo.id("leader1")] == [
        "同意。"
    ]


def test_unknown_field_and_return_needs_an_opinion(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    client = demo.client("leader1")
    bad = client.post(f"/api/v1/tasks/{task['id']}/approve/", {"opnion": "x"}, format="json")
    assert bad.status_code == 400 and _code(bad) == "unknown_field"
    missing = client.post(f"/api/v1/tasks/{task['id']}/return/", {}, format="json")
    assert missing.status_code == 400 and _code(missing) == "validation_error"


def test_return_to_drafter(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    response = demo.client("leader1").post(
        f"/api/v1/tasks/{task['id']}/return/",
        {"opinion": "请补充资金来源。", "to": "drafter"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["action"] == "return"
    assert response.json()["opinion"] == "请补充资金来源。"
    document = demo.client("clerk").get(f"/api/v1/documents/{countersigning}/").json()
    assert document["status"] == "returned"


def test_transfer_and_add_countersigner(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    moved = demo.client("leader1").post(
        f"/api/v1/tasks/{task['id']}/transfer/",
        {"to_user_id": demo.id("deputy1"), "opinion": "请吴秘书长阅处。"},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["state"] == "transferred"
    assert demo.todo_for("deputy1", countersigning)["step"]["kind"] == "countersign"

    task2 = demo.todo_for("leader2", countersigning)
    added = demo.client("leader2").post(
        f"/api/v1/tasks/{task2['id']}/add-countersigner/",
        {"user_ids": [demo.id("b_leader")], "opinion": "请发改委会签。"},
        format="json",
    )
    assert added.status_code == 200, added.content
    assert demo.todo_for("b_leader", countersigning)["step"]["kind"] == "countersign"


def test_acknowledge_refused_outside_a_circulation(demo, countersigning):
    task = demo.todo_for("leader1", countersigning)
    response = demo.client("leader1").post(f"/api/v1/tasks/{task['id']}/acknowledge/")
    assert response.status_code in (409, 422), response.content


def test_withdraw_right_after_submit(demo):
    document_id = demo.draft()
    demo.submit(document_id)
    response = demo.client("clerk").post(f"/api/v1/documents/{document_id}/withdraw/")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "withdrawn"
    again = demo.client("clerk").post(f"/api/v1/documents/{document_id}/withdraw/")
    assert again.status_code == 409


def test_batch_approve(demo, countersigning):
    leader = demo.client("leader1")
    too_many = leader.post(
        "/api/v1/tasks/batch-approve/", {"task_ids": list(range(1, 102))}, format="json"
    )
    assert too_many.status_code == 422 and _code(too_many) == "batch_too_large"
    task = demo.todo_for("leader1", countersigning)
    other = demo.draft(title="关于另一项工作的请示")
    demo.submit(other)
    review = demo.todo_for("director", other)
    response = leader.post(
        "/api/v1/tasks/batch-approve/",
        {"task_ids": [task["id"], review["id"]]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"batch-{uuid.uuid4()}",
    )
    assert response.status_code == 200, response.content
    results = {r["task_id"]: r for r in response.json()["results"]}
    assert results[task["id"]] == {"task_id": task["id"], "ok": True}
    assert results[review["id"]]["ok"] is False
    assert results[review["id"]]["code"] == "not_found"
    # The director's review step is not batchable.
    director = demo.client("director").post(
        "/api/v1/tasks/batch-approve/", {"task_ids": [review["id"]]}, format="json"
    )
    assert director.json()["results"][0]["code"] == "not_batchable"


def test_submit_errors(demo):
    document_id = demo.draft()
    bad = demo.client("clerk").post(
        f"/api/v1/documents/{document_id}/submit/", {"participants": {}}, format="json"
    )
    assert bad.status_code == 400
    hidden = demo.client("b_clerk").post(
        f"/api/v1/documents/{document_id}/submit/",
        {"template_id": demo.template_id(), "participants": {}},
        format="json",
    )
    assert hidden.status_code == 404


def test_openapi_one_tap_body_is_optional(client):
    schema = client.get("/api/schema/?format=json").json()
    approve = schema["paths"]["/api/v1/tasks/{id}/approve/"]["post"]
    assert approve["requestBody"].get("required", False) is False
    params = {p["name"] for p in approve["parameters"]}
    assert "Idempotency-Key" in params
    assert "/api/v1/users/" in schema["paths"]
    assert "/api/v1/me/summary/" in schema["paths"]
