"""The flows meet the exchange, over HTTP with the personas (docs/exchange.md#the-distribute-step,
docs/exchange.md#results-of-the-incoming-flow):

* the outgoing flow's 分发 step is completed by the dispatch itself — approving it is
  refused, the recipients default from 主送/抄送, the receiving units see it;
* the receiving unit's 初审 return marks the sender's receipt ``returned`` with the
  reason and tells the sending clerk; its 答复 reaches the sender's inbox, linked.
"""

from __future__ import annotations

import uuid

import pytest

from api.audit.models import AuditEvent
from api.documents.models import Document
from api.exchange.models import Dispatch, Receipt
from api.notify.models import Notification
from api.workflow import actions as workflow
from api.workflow.models import Task, TaskState
from tests.api.exchange.conftest import make_document
from tests.personas import Role, client_for, make_user

pytestmark = pytest.mark.django_db


def key() -> str:
    return f"k-{uuid.uuid4()}"


# --- 分发: the distribute step ---------------------------------------------------------------


def _outgoing_at_distribute(ex, holder=None) -> tuple[Document, Task]:
    """A sealed office notice whose flow is at its distribute step (one step, held by
    ``holder``, bob the office clerk by default); 主送 the bureau, 抄送 the district."""
    org, bob = ex.org, ex.personas["bob"]
    holder = holder or bob
    template = workflow.create_template(
        ex.personas["alice"],
        unit=org.office,
        name=f"发文-{uuid.uuid4().hex[:6]}",
        direction="outgoing",
        steps=[{"kind": "distribute", "assignee_kind": "user", "user": holder.pk}],
    )
    document = make_document(
        org.office,
        bob,
        status="draft",
        doc_number=f"测府办发〔2026〕{Document.objects.count() + 5}号",
    )
    Document.objects.filter(pk=document.pk).update(
        main_recipients=f"{org.bureau.name}：", cc=org.district.name
    )
    workflow.submit(document.pk, bob, template.pk, {})
    task = Task.objects.get(document=document, state=TaskState.OPEN)
    assert task.step_kind == "distribute" and task.assignee_id == holder.pk
    return document, task


def test_the_distribute_task_cannot_complete_without_a_dispatch(ex):
    org, bob = ex.org, ex.personas["bob"]
    document, task = _outgoing_at_distribute(ex)
    client = client_for(bob)

    # The phone is told in advance, and a plain approve is refused (both languages).
    detail = client.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["allowed_actions"]["approve"]["code"] == "dispatch_required"
    assert detail["allowed_actions"]["distribute"] == {"allowed": True}
    refused = client.post(f"/api/v1/tasks/{task.pk}/approve/", HTTP_IDEMPOTENCY_KEY=key())
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "dispatch_required"
    assert "公文交换" in refused.json()["error"]["message"]
    english = client.post(f"/api/v1/tasks/{task.pk}/approve/", HTTP_ACCEPT_LANGUAGE="en")
    assert "dispatching" in english.json()["error"]["message"]
    batch = client.post(
        "/api/v1/tasks/batch-approve/", {"task_ids": [task.pk]}, format="json"
    ).json()
    assert batch["results"][0]["ok"] is False
    denied = AuditEvent.objects.filter(action="task.approve", result="denied", object_id=task.pk)
    assert denied.count() >= 2
    assert denied.first().detail["reason"] == "dispatch_required"
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and not Dispatch.objects.exists()

    # The step offers 主送/抄送 as the recipients; sending with no body takes them.
    defaults = client.get(f"/api/v1/tasks/{task.pk}/distribute/").json()
    assert [u["id"] for u in defaults["to_units"]] == [org.bureau.pk]
    assert [u["id"] for u in defaults["cc_units"]] == [org.district.pk]
    assert defaults["unmatched"] == []
    tap = key()
    sent = client.post(
        f"/api/v1/tasks/{task.pk}/distribute/", {}, format="json", HTTP_IDEMPOTENCY_KEY=tap
    )
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["state"] == "done" and body["opinion"] == "已分发"
    assert body["dispatch"]["counts"]["total"] == 2 and body["dispatch"]["document_id"] == (
        document.pk
    )
    # a retry with the same key is the same answer and sends nothing more
    replay = client.post(
        f"/api/v1/tasks/{task.pk}/distribute/", {}, format="json", HTTP_IDEMPOTENCY_KEY=tap
    )
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == body
    again = client.post(f"/api/v1/tasks/{task.pk}/distribute/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "task_not_open"
    assert Dispatch.objects.count() == 1 and Receipt.objects.count() == 2

    # The trail's 已分发 names its dispatch; the document is completed.
    dispatch = Dispatch.objects.get()
    trail = client.get(f"/api/v1/documents/{document.pk}/trail/").json()["entries"]
    entry = next(e for e in trail if e["step"]["kind"] == "distribute")
    assert entry["opinion"] == "已分发" and entry["actor"]["id"] == bob.pk
    task.refresh_from_db()
    assert task.detail["dispatch_id"] == dispatch.pk
    assert client.get(f"/api/v1/documents/{document.pk}/").json()["status"] == "completed"

    # The receiving units see it in their exchange inbox.
    for clerk, unit, role in ((ex.bea, org.bureau, "to"), (ex.dan, org.district, "cc")):
        inbox = client_for(clerk).get("/api/v1/exchange/inbox/").json()["results"]
        assert [(r["document"]["id"], r["unit"]["id"], r["role"]) for r in inbox] == [
            (document.pk, unit.pk, role)
        ]
    assert client_for(ex.tom).get("/api/v1/exchange/inbox/").json()["results"] == []


def test_explicit_recipients_and_refusals_leave_the_step_open(ex):
    org, bob = ex.org, ex.personas["bob"]
    _document, task = _outgoing_at_distribute(ex)
    client = client_for(bob)
    path = f"/api/v1/tasks/{task.pk}/distribute/"
    # a bad recipient: nothing sent, the step still open (one transaction)
    bad = client.post(path, {"to_units": [org.bureau.pk, 999999]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unit_not_found"
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and not Dispatch.objects.exists()
    # another unit's clerk, and a person of the office who does not hold it: 404
    for person in (ex.tom, ex.personas["charlie"], ex.personas["alice"]):
        assert client_for(person).post(path, {}, format="json").status_code == 404
        assert client_for(person).get(path).status_code == 404
    # the holder chooses the township only
    sent = client.post(path, {"to_units": [org.township.pk]}, format="json")
    assert sent.status_code == 200, sent.content
    assert [r.unit_id for r in Receipt.objects.all()] == [org.township.pk]


def test_the_dispatch_endpoint_completes_the_open_distribute_step(ex):
    org, bob = ex.org, ex.personas["bob"]
    document, task = _outgoing_at_distribute(ex)
    response = client_for(bob).post(
        f"/api/v1/documents/{document.pk}/dispatch/",
        {"to_units": [org.bureau.pk]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key(),
    )
    assert response.status_code == 202, response.content
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.detail["dispatch_id"] == response.json()["id"]


def test_a_holder_who_is_no_clerk_is_refused_and_recorded(ex):
    leo = ex.personas["leo"]  # a leader of the office, not its clerk
    _, task = _outgoing_at_distribute(ex, holder=leo)
    response = client_for(leo).post(f"/api/v1/tasks/{task.pk}/distribute/", {}, format="json")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action="exchange.dispatch", result="denied", object_id=task.pk
    ).exists()
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and not Dispatch.objects.exists()


def test_templates_refuse_an_automatic_distribute_step(ex):
    response = client_for(ex.personas["alice"]).post(
        "/api/v1/workflow-templates/",
        {
            "unit": ex.org.office.pk,
            "name": "自动分发",
            "direction": "outgoing",
            "steps": [{"kind": "distribute", "assignee_kind": "auto"}],
        },
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "template_invalid"


def test_an_old_snapshot_with_an_automatic_distribute_step_waits_for_the_drafter(ex):
    # Instances started before distribute steps became dispatches keep an automatic
    # distribute step in their snapshot: it no longer completes by itself (nothing
    # would back its 已分发) but opens for the drafter, who dispatches it.
    org, bob, leo = ex.org, ex.personas["bob"], ex.personas["leo"]
    template = workflow.create_template(
        ex.personas["alice"],
        unit=org.office,
        name="旧发文",
        direction="outgoing",
        steps=[
            {"kind": "review", "assignee_kind": "user", "user": leo.pk},
            {"kind": "distribute", "assignee_kind": "user", "user": leo.pk},
        ],
    )
    document = make_document(org.office, bob, status="draft", doc_number="测府办发〔2026〕9号")
    instance = workflow.submit(document.pk, bob, template.pk, {"recipients": [org.bureau.pk]})
    instance.steps[1] = {**instance.steps[1], "assignee_kind": "auto", "user_id": None}
    instance.save(update_fields=["steps"])
    review = Task.objects.get(document=document, state=TaskState.OPEN)
    assert client_for(leo).post(f"/api/v1/tasks/{review.pk}/approve/").status_code == 200
    task = Task.objects.get(document=document, state=TaskState.OPEN)
    assert (task.step_kind, task.assignee_id) == ("distribute", bob.pk)
    assert not Dispatch.objects.exists()
    client = client_for(bob)
    defaults = client.get(f"/api/v1/tasks/{task.pk}/distribute/").json()
    assert [u["id"] for u in defaults["to_units"]] == [org.bureau.pk]  # chosen at submit
    assert client.post(f"/api/v1/tasks/{task.pk}/distribute/", {}, format="json").status_code == 200
    assert [r.unit_id for r in Receipt.objects.all()] == [org.bureau.pk]


# --- results of the incoming flow: 初审 退回 and 答复 ----------------------------------------


@pytest.fixture
def incoming(ex):
    """The office dispatched its notice to the bureau and the district; the bureau's
    clerk signed for it, and the bureau's incoming flow 签收 → 初审 (rita) → 答复
    (rita) now waits at 初审."""
    org, bob = ex.org, ex.personas["bob"]
    rita = make_user("rita", org.bureau, Role.STAFF, display_name="丽塔")
    template = workflow.create_template(
        ex.personas["ivy"],
        unit=org.bureau,
        name="发改委收文",
        direction="incoming",
        steps=[
            {"kind": "sign_for", "assignee_kind": "user", "user": ex.bea.pk},
            {"kind": "preliminary_review", "assignee_kind": "user", "user": rita.pk},
            {"kind": "reply", "assignee_kind": "user", "user": rita.pk},
        ],
    )
    sent = client_for(bob).post(
        f"/api/v1/documents/{ex.document.pk}/dispatch/",
        {"to_units": [org.bureau.pk], "cc_units": [org.district.pk]},
        format="json",
    )
    assert sent.status_code == 202, sent.content
    receipt = Receipt.objects.get(unit=org.bureau)
    signed = client_for(ex.bea).post(
        f"/api/v1/exchange/{receipt.pk}/sign/", {"template_id": template.pk}, format="json"
    )
    assert signed.status_code == 200 and signed.json()["flow"]["started"], signed.content
    review = Task.objects.get(assignee=rita, state=TaskState.OPEN)
    assert review.step_kind == "preliminary_review"
    return rita, receipt, review


def _status_of(ex, unit) -> dict:
    status = client_for(ex.personas["bob"]).get(f"/api/v1/documents/{ex.document.pk}/dispatch/")
    assert status.status_code == 200, status.content
    return next(r for r in status.json()["results"] if r["unit"]["id"] == unit.pk)


def test_a_return_at_preliminary_review_reaches_the_sender(ex, incoming):
    rita, receipt, review = incoming
    assert _status_of(ex, ex.org.bureau)["state"] == "signed_for"
    tap = key()
    body = {"opinion": "非本单位职责，请转市财政局。", "to": "sender"}
    returned = client_for(rita).post(
        f"/api/v1/tasks/{review.pk}/return/", body, format="json", HTTP_IDEMPOTENCY_KEY=tap
    )
    assert returned.status_code == 200, returned.content
    replay = client_for(rita).post(
        f"/api/v1/tasks/{review.pk}/return/", body, format="json", HTTP_IDEMPOTENCY_KEY=tap
    )
    assert replay["Idempotent-Replayed"] == "true"

    # The sender's per-recipient status says returned, with the reason and the step.
    item = _status_of(ex, ex.org.bureau)
    assert item["state"] == "returned"
    assert item["return_reason"] == "非本单位职责，请转市财政局。"
    assert item["returned_at_step"] == "preliminary_review"
    assert item["returned_by"]["id"] == rita.pk and item["returned_at"]
    assert _status_of(ex, ex.org.district)["state"] == "pending"  # the others are untouched
    # The sending clerk is told, once; the return is audited once.
    told = Notification.objects.filter(
        recipient=ex.personas["bob"], dedup_key=f"exchange_returned:{receipt.pk}"
    )
    assert told.count() == 1 and "初审" in told.get().title
    assert AuditEvent.objects.filter(action="exchange.returned").count() == 1
    # The bureau's incoming document is returned; another unit's clerk cannot see the receipt.
    assert Document.objects.get(pk=review.document_id).status == "returned"
    assert client_for(ex.tom).get(f"/api/v1/exchange/{receipt.pk}/").status_code == 404


def test_a_reply_arrives_in_the_senders_inbox_linked_to_the_original(ex, incoming):
    rita, receipt, review = incoming
    client = client_for(rita)
    assert client.post(f"/api/v1/tasks/{review.pk}/approve/").status_code == 200
    reply_task = Task.objects.get(assignee=rita, state=TaskState.OPEN)
    assert reply_task.step_kind == "reply"
    tap, text = key(), "已按要求部署冬季安全生产检查，详见附表。"
    answered = client.post(
        f"/api/v1/tasks/{reply_task.pk}/approve/",
        {"opinion": text},
        format="json",
        HTTP_IDEMPOTENCY_KEY=tap,
    )
    assert answered.status_code == 200, answered.content
    replay = client.post(
        f"/api/v1/tasks/{reply_task.pk}/approve/",
        {"opinion": text},
        format="json",
        HTTP_IDEMPOTENCY_KEY=tap,
    )
    assert replay["Idempotent-Replayed"] == "true"
    assert Dispatch.objects.filter(receipts__unit=ex.org.office).count() == 1  # sent once

    # The sender's per-recipient status shows the reply …
    item = _status_of(ex, ex.org.bureau)
    assert item["state"] == "signed_for" and item["reply"]["text"] == text
    # … and it waits in the sending unit's inbox, linked to the original.
    bob = client_for(ex.personas["bob"])
    inbox = bob.get("/api/v1/exchange/inbox/").json()["results"]
    assert len(inbox) == 1
    arrived = inbox[0]
    assert arrived["id"] == item["reply"]["receipt_id"]
    assert arrived["sender_unit"]["id"] == ex.org.bureau.pk
    assert arrived["in_reply_to"]["receipt_id"] == receipt.pk
    assert arrived["in_reply_to"]["document_id"] == ex.document.pk
    assert arrived["in_reply_to"]["text"] == text
    assert arrived["document"]["title"] == f"关于《{ex.document.title}》的答复"
    assert Notification.objects.filter(
        recipient=ex.personas["bob"], dedup_key=f"exchange_replied:{receipt.pk}"
    ).exists()
    # The sender reads it: opens it (read), signs for it (a 收文 with the reply as body).
    assert bob.get(f"/api/v1/exchange/{arrived['id']}/").json()["read_at"]
    assert bob.get(f"/api/v1/exchange/{arrived['id']}/pdf/").status_code == 404  # no PDF
    signed = bob.post(f"/api/v1/exchange/{arrived['id']}/sign/", {}, format="json")
    assert signed.status_code == 200, signed.content
    copy = Document.objects.get(pk=signed.json()["incoming_document_id"])
    assert copy.unit_id == ex.org.office.pk and copy.body == [{"level": 0, "text": text}]
    # Other units' clerks do not see the reply (404).
    for stranger in (ex.tom, ex.dan):
        assert client_for(stranger).get(f"/api/v1/exchange/{arrived['id']}/").status_code == 404
