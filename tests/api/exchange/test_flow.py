"""The exchange end to end over HTTP: dispatch → fan-out → inbox → open (read) → sign
for / return / recall, and the sender's per-recipient status (docs/exchange.md)."""

from __future__ import annotations

import uuid

import pytest

from api.audit.models import AuditEvent
from api.documents.models import Document, RenderedPdf
from api.exchange.models import Dispatch, Receipt
from api.exchange.tasks import fan_out_dispatch
from api.notify.models import Notification
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def dispatch(client, document_id, **body):
    return client.post(f"/api/v1/documents/{document_id}/dispatch/", body, format="json")


def test_whole_flow(ex, django_capture_on_commit_callbacks):
    org, bob = ex.org, ex.personas["bob"]
    sender = client_for(bob)
    with django_capture_on_commit_callbacks() as callbacks:
        response = dispatch(
            sender, ex.document.pk, to_units=[org.bureau.pk], cc_units=[org.district.pk]
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "sending"
    assert body["counts"] == {
        "total": 2,
        "pending": 2,
        "signed_for": 0,
        "returned": 0,
        "recalled": 0,
        "read": 0,
    }
    assert len(callbacks) == 1  # the fan-out is enqueued on commit, not run inline
    assert Notification.objects.filter(kind="exchange").count() == 0

    result = fan_out_dispatch(body["id"])
    assert result["notified"] == 2
    notified = Notification.objects.filter(kind="exchange").order_by("recipient__username")
    # both clerks of the bureau, the district's clerk; the township was not addressed
    assert [n.recipient.username for n in notified] == ["bea", "bert", "dan"]
    assert notified[0].title == "公文交换：测试市政府办公室来文待签收"
    assert notified[0].urgency == "high"  # an urgent (加急) document
    assert Dispatch.objects.get(pk=body["id"]).state == "sent"

    # the bureau's clerk sees it waiting, opens it (read), signs for it
    bea = client_for(ex.bea)
    inbox = bea.get("/api/v1/exchange/inbox/").json()["results"]
    assert [(r["unit"]["id"], r["role"], r["state"]) for r in inbox] == [
        (org.bureau.pk, "to", "pending")
    ]
    receipt_id = inbox[0]["id"]
    opened = bea.get(f"/api/v1/exchange/{receipt_id}/").json()
    assert opened["read_at"] is not None and opened["document"]["doc_number"]
    status = sender.get(f"/api/v1/documents/{ex.document.pk}/dispatch/").json()
    assert status["dispatch"]["counts"]["read"] == 1
    by_unit = {r["unit"]["id"]: r for r in status["results"]}
    assert by_unit[org.bureau.pk]["read_at"] and not by_unit[org.district.pk]["read_at"]

    signed = bea.post(f"/api/v1/exchange/{receipt_id}/sign/", {}, format="json")
    assert signed.status_code == 200, signed.content
    signed = signed.json()
    assert signed["state"] == "signed_for" and signed["signed_for_by"]["id"] == ex.bea.pk
    assert signed["signed_for_at"]
    # no incoming template in this organisation: registered, flow not started, said so
    assert signed["flow"]["started"] is False
    assert signed["flow"]["code"] == "no_incoming_template"
    incoming = Document.objects.get(pk=signed["incoming_document_id"])
    assert (incoming.direction, incoming.unit_id, incoming.status) == (
        "incoming",
        org.bureau.pk,
        "draft",
    )
    assert incoming.title == ex.document.title and incoming.drafter_id == ex.bea.pk
    # the copy's PDF is the original's sealed file, readable by the bureau's clerk
    copy_pdf = RenderedPdf.objects.get(document=incoming)
    original_pdf = RenderedPdf.objects.get(document=ex.document)
    assert copy_pdf.sha256 == original_pdf.sha256 and copy_pdf.meta["sealed"] is True
    assert copy_pdf.meta["received_from"]["document_id"] == ex.document.pk
    pdf = bea.get(f"/api/v1/documents/{incoming.pk}/pdf/")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    # ... but not the original itself
    assert bea.get(f"/api/v1/documents/{ex.document.pk}/").status_code == 404

    # recall after sign-for is refused; before sign-for it works
    late = sender.post(f"/api/v1/exchange/{receipt_id}/recall/", {}, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "already_signed_for"
    district_id = by_unit[org.district.pk]["id"]
    recalled = sender.post(f"/api/v1/exchange/{district_id}/recall/", {}, format="json")
    assert recalled.status_code == 200 and recalled.json()["state"] == "recalled"
    # the district's clerk, told about it, is told about the recall too
    assert Notification.objects.filter(
        recipient=ex.dan, dedup_key=f"exchange_recalled:{district_id}"
    ).exists()
    too_late = client_for(ex.dan).post(f"/api/v1/exchange/{district_id}/sign/", {}, format="json")
    assert too_late.status_code == 409
    assert too_late.json()["error"]["code"] == "receipt_not_pending"

    final = sender.get(f"/api/v1/documents/{ex.document.pk}/dispatch/").json()
    counts = final["dispatch"]["counts"]
    assert (counts["signed_for"], counts["recalled"], counts["pending"]) == (1, 1, 0)
    actions = set(
        AuditEvent.objects.filter(action__startswith="exchange.").values_list("action", flat=True)
    )
    assert {"exchange.dispatched", "exchange.read", "exchange.signed_for"} <= actions
    assert "exchange.recalled" in actions


def test_return_with_reason_notifies_the_dispatcher(ex):
    org, bob = ex.org, ex.personas["bob"]
    assert dispatch(client_for(bob), ex.document.pk, to_units=[org.bureau.pk]).status_code == 202
    receipt = Receipt.objects.get(unit=org.bureau)
    bea = client_for(ex.bea)
    empty = bea.post(f"/api/v1/exchange/{receipt.pk}/return/", {"reason": " "}, format="json")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "reason_required"
    done = bea.post(
        f"/api/v1/exchange/{receipt.pk}/return/", {"reason": "非本单位职责"}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "returned" and done.json()["return_reason"] == "非本单位职责"
    assert Notification.objects.filter(recipient=bob, dedup_key=f"exchange_returned:{receipt.pk}")
    again = bea.post(f"/api/v1/exchange/{receipt.pk}/sign/", {}, format="json")
    assert again.json()["error"]["code"] == "receipt_not_pending"
    recall = client_for(bob).post(f"/api/v1/exchange/{receipt.pk}/recall/", {}, format="json")
    assert recall.status_code == 409 and recall.json()["error"]["code"] == "receipt_not_pending"
    assert Receipt.objects.get(pk=receipt.pk).state == "returned"


def test_sign_twice_is_409_and_the_replay_is_the_first_answer(ex):
    org = ex.org
    dispatch(client_for(ex.personas["bob"]), ex.document.pk, to_units=[org.bureau.pk])
    receipt = Receipt.objects.get(unit=org.bureau)
    bea = client_for(ex.bea)
    path = f"/api/v1/exchange/{receipt.pk}/sign/"
    key = f"sign-{uuid.uuid4()}"  # fresh: the shared cache outlives the test database
    first = bea.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    replay = bea.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    second = client_for(ex.bert).post(path, {}, format="json")
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "already_signed_for" and error["signed_for_by"] == ex.bea.pk
    assert Document.objects.filter(direction="incoming").count() == 1


def test_another_units_receipt_is_404_and_recorded(ex):
    org = ex.org
    dispatch(client_for(ex.personas["bob"]), ex.document.pk, to_units=[org.bureau.pk])
    receipt = Receipt.objects.get(unit=org.bureau)
    for user in (ex.tom, ex.dan, ex.personas["charlie"], ex.personas["dana"]):
        client = client_for(user)
        for method, suffix in (("get", ""), ("post", "sign/"), ("post", "recall/")):
            response = getattr(client, method)(f"/api/v1/exchange/{receipt.pk}/{suffix}")
            assert response.status_code == 404, (user.username, suffix, response.content)
    denied = AuditEvent.objects.filter(action="exchange.access_denied", result="denied")
    assert denied.filter(actor_username="tom").count() == 3
    assert Receipt.objects.get(pk=receipt.pk).state == "pending"
    assert Receipt.objects.get(pk=receipt.pk).read_at is None


def test_sides_may_not_do_each_others_actions(ex):
    org, bob = ex.org, ex.personas["bob"]
    dispatch(client_for(bob), ex.document.pk, to_units=[org.bureau.pk])
    receipt = Receipt.objects.get(unit=org.bureau)
    # the sender sees the receipt (status) without marking it read, but cannot sign it
    sender = client_for(bob)
    assert sender.get(f"/api/v1/exchange/{receipt.pk}/").json()["read_at"] is None
    sign = sender.post(f"/api/v1/exchange/{receipt.pk}/sign/", {}, format="json")
    assert sign.status_code == 403
    # the recipient cannot recall
    recall = client_for(ex.bea).post(f"/api/v1/exchange/{receipt.pk}/recall/", {}, format="json")
    assert recall.status_code == 403
    assert AuditEvent.objects.filter(action="exchange.sign", result="denied").count() == 1
    assert AuditEvent.objects.filter(action="exchange.recall", result="denied").count() == 1
    assert Receipt.objects.get(pk=receipt.pk).state == "pending"


def test_inbox_needs_a_receiving_role_and_filters_by_state(ex):
    org = ex.org
    dispatch(
        client_for(ex.personas["bob"]),
        ex.document.pk,
        to_units=[org.bureau.pk],
        cc_units=[org.district.pk],
    )
    assert client_for(ex.personas["charlie"]).get("/api/v1/exchange/inbox/").status_code == 403
    dana = client_for(ex.personas["dana"])  # unit admin of the district receives too
    assert [r["unit"]["id"] for r in dana.get("/api/v1/exchange/inbox/").json()["results"]] == [
        org.district.pk
    ]
    receipt = Receipt.objects.get(unit=org.bureau)
    client_for(ex.bea).post(f"/api/v1/exchange/{receipt.pk}/sign/", {}, format="json")
    bea = client_for(ex.bea)
    assert bea.get("/api/v1/exchange/inbox/").json()["results"] == []
    signed = bea.get("/api/v1/exchange/inbox/?state=signed_for").json()["results"]
    assert [r["id"] for r in signed] == [receipt.pk]
    assert len(bea.get("/api/v1/exchange/inbox/?state=all").json()["results"]) == 1
    bad = bea.get("/api/v1/exchange/inbox/?state=nope")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_the_sealed_pdf_can_be_read_before_signing_for_it(ex):
    org = ex.org
    dispatch(client_for(ex.personas["bob"]), ex.document.pk, to_units=[org.bureau.pk])
    receipt = Receipt.objects.get(unit=org.bureau)
    sealed = RenderedPdf.objects.get(document=ex.document)
    response = client_for(ex.bea).get(f"/api/v1/exchange/{receipt.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{sealed.sha256}"'
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    receipt.refresh_from_db()
    assert receipt.read_at is not None and receipt.read_by_id == ex.bea.pk
    assert client_for(ex.tom).get(f"/api/v1/exchange/{receipt.pk}/pdf/").status_code == 404
