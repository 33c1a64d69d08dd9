"""The outgoing approval flow end to end over HTTP (docs/mobile-api.md).

Real logins (POST /api/v1/auth/token/ with the demo password) after ``seed_demo``:
the clerk drafts and submits with leader1–3 countersigning and the mayor signing off;
the director reviews with one tap; the three leaders countersign, each with one
empty-bodied POST (one sent twice with the same Idempotency-Key: the second is a
replay); the mayor signs off; the document gets its number; the seal custodian and
the clerk finish it; the trail shows each opinion exactly once with full timestamps.
And: leader1 absent → the countersign task goes to deputy1, and the trail says so.

Transactional: absences and task notifications act after commit, as in production.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from api.demo.city import DEMO_TOTP_SECRET

pytestmark = pytest.mark.django_db(transaction=True)

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def _trail(demo, document_id: int) -> list[dict]:
    response = demo.client("clerk").get(f"/api/v1/documents/{document_id}/trail/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["document_id"] == document_id
    return body["entries"]


def test_outgoing_document_end_to_end(demo):
    document_id = demo.draft(main_recipients="市发展和改革委员会", cc="市财政局")
    instance = demo.submit(document_id)
    assert instance["state"] == "running"

    # Director: one tap on the review task (no body at all).
    review = demo.todo_for("director", document_id)
    assert review["step"] == {"kind": "review", "name": "核稿"}
    assert review["from"]["id"] == demo.id("clerk")
    assert "approve" in review["actions"]
    response = demo.approve("director", review["id"])
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "done"
    assert response.json()["opinion"] == "同意"  # the step's standard opinion

    # The three leaders countersign, each with one empty-bodied POST.
    tasks = {name: demo.todo_for(name, document_id) for name in ("leader1", "leader2", "leader3")}
    assert all(t["step"]["kind"] == "countersign" for t in tasks.values())
    key = f"tap-{uuid.uuid4()}"  # keys live in the shared cache: unique per run
    first = demo.approve("leader1", tasks["leader1"]["id"], key=key)
    assert first.status_code == 200, first.content
    assert not first.has_header("Idempotent-Replayed")
    replay = demo.approve("leader1", tasks["leader1"]["id"], key=key)
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    for name in ("leader2", "leader3"):
        response = demo.client(name).post(
            f"/api/v1/tasks/{tasks[name]['id']}/approve/",
            data="",
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"tap-{uuid.uuid4()}",
        )
        assert response.status_code == 200, response.content
    # Without the key, a second tap is refused: the task is no longer open.
    again = demo.approve("leader2", tasks["leader2"]["id"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "task_not_open"

    # Mayor signs off; the number step runs by itself and the document is numbered.
    sign_off = demo.todo_for("mayor", document_id)
    assert sign_off["step"]["kind"] == "sign_off"
    assert demo.approve("mayor", sign_off["id"]).status_code == 200
    document = demo.client("clerk").get(f"/api/v1/documents/{document_id}/").json()
    assert re.fullmatch(r".+〔\d{4}〕\d+号", document["doc_number"]), document["doc_number"]

    # Seal and distribute finish it.
    # The custodian seals (用印) with a fresh TOTP code; a plain approve is refused.
    seal = demo.todo_for("custodian", document_id)
    assert seal["actions"].count("seal") == 1 and "approve" not in seal["actions"]
    refused = demo.approve("custodian", seal["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "seal_required"
    totp = pyotp.TOTP(DEMO_TOTP_SECRET)  # one step ahead: the login used the current one
    code = totp.generate_otp(totp.timecode(timezone.now()) + 1)
    sealed = demo.client("custodian").post(
        f"/api/v1/tasks/{seal['id']}/seal/", {"otp": code}, format="json"
    )
    assert sealed.status_code == 200, sealed.content
    assert sealed.json()["opinion"] == "已用印"
    # 分发 is the exchange dispatch itself: a plain approve is refused; the recipients
    # default from the document's 主送/抄送 (市发展和改革委员会 / 市财政局).
    distribute = demo.todo_for("clerk", document_id)
    assert distribute["actions"].count("distribute") == 1 and "approve" not in distribute["actions"]
    refused = demo.approve("clerk", distribute["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "dispatch_required"
    clerk = demo.client("clerk")
    defaults = clerk.get(f"/api/v1/tasks/{distribute['id']}/distribute/").json()
    assert [u["short_name"] for u in defaults["to_units"]] == ["市发展和改革委员会"]
    assert [u["short_name"] for u in defaults["cc_units"]] == ["市财政局"]
    sent = clerk.post(f"/api/v1/tasks/{distribute['id']}/distribute/", {}, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["opinion"] == "已分发" and sent.json()["dispatch"]["counts"]["total"] == 2
    document = demo.client("clerk").get(f"/api/v1/documents/{document_id}/").json()
    assert document["status"] == "completed"

    trail = _trail(demo, document_id)
    approvals = [e for e in trail if e["action"] == "approve"]
    actors = [e["actor"]["id"] for e in approvals]
    assert sorted(actors) == sorted(
        demo.id(name)
        for name in ("director", "leader1", "leader2", "leader3", "mayor", "custodian", "clerk")
    )
    assert len(actors) == len(set(actors))  # each opinion exactly once
    assert all(e["opinion"] for e in approvals)
    for entry in trail:
        for field in ("received_at", "acted_at"):
            assert entry[field] is None or ISO.match(entry[field]), entry[field]
    assert all(ISO.match(e["acted_at"]) for e in approvals)
    numbered = [e for e in trail if e["step"]["kind"] == "number"]
    assert len(numbered) == 1 and numbered[0]["actor_label"] == "系统"

    # Nothing left for anyone; the badge agrees.
    summary = demo.client("leader1").get("/api/v1/me/summary/").json()
    assert summary == {"todo": 0, "overdue": 0, "unread": 0}


def _absent(demo, username: str) -> None:
    now = timezone.now()
    response = demo.client(username).post(
        "/api/v1/me/absences/",
        {
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(days=2)).isoformat(),
            "reason": "出差",
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def _deputy_countersigns(demo, document_id: int) -> None:
    task = demo.todo_for("deputy1", document_id)
    assert task["step"]["kind"] == "countersign"
    assert task["on_behalf_of"]["id"] == demo.id("leader1")
    leader1_list = demo.client("leader1").get("/api/v1/tasks/").json()["results"]
    assert all(t["document"]["id"] != document_id for t in leader1_list)
    # leader1 cannot act on the task the deputy now holds.
    refused = demo.approve("leader1", task["id"])
    assert refused.status_code == 404
    assert demo.approve("deputy1", task["id"], key=f"tap-{uuid.uuid4()}").status_code == 200

    trail = _trail(demo, document_id)
    deputy = [e for e in trail if e["actor"] and e["actor"]["id"] == demo.id("deputy1")]
    assert len(deputy) == 1
    assert deputy[0]["on_behalf_of"] == {"id": demo.id("leader1"), "display_name": "张伟"}
    assert deputy[0]["actor_label"] == "吴强 代 张伟"  # deputy1 代 leader1


def test_absent_leader_countersign_goes_to_deputy(demo):
    """leader1 is away before the countersign step opens: it is routed to deputy1."""
    _absent(demo, "leader1")
    document_id = demo.draft()
    demo.submit(document_id)
    assert demo.approve("director", demo.todo_for("director", document_id)["id"]).status_code == 200
    _deputy_countersigns(demo, document_id)


def test_absence_starting_moves_the_open_countersign_task(demo):
    """leader1 already has the task when the absence is declared: it moves to deputy1."""
    document_id = demo.draft()
    demo.submit(document_id)
    assert demo.approve("director", demo.todo_for("director", document_id)["id"]).status_code == 200
    demo.todo_for("leader1", document_id)
    _absent(demo, "leader1")
    _deputy_countersigns(demo, document_id)
