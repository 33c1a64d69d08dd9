"""Bad input to the dispatch: every refusal has its stable code and nothing is sent —
no Dispatch, no Receipt, no notification, nothing enqueued (docs/exchange.md#errors)."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest

from api.audit.models import AuditEvent
from api.exchange import actions
from api.exchange.models import Dispatch, ExchangeGroup, Receipt
from api.notify.models import Notification
from tests.api.exchange.conftest import make_document
from tests.personas import client_for, make_unit

pytestmark = pytest.mark.django_db


def post(user, document_id, **body):
    return client_for(user).post(f"/api/v1/documents/{document_id}/dispatch/", body, format="json")


def nothing_sent():
    return (
        Dispatch.objects.count(),
        Receipt.objects.count(),
        Notification.objects.filter(kind="exchange").count(),
    ) == (0, 0, 0)


@pytest.fixture
def refused(django_capture_on_commit_callbacks):
    """Assert a refusal: status, code, nothing written, nothing enqueued."""

    def check(response, status, code):
        assert response.status_code == status, response.content
        assert response.json()["error"]["code"] == code
        assert nothing_sent()
        return response.json()["error"]

    with django_capture_on_commit_callbacks() as callbacks:
        yield check
    assert callbacks == []  # nothing enqueued


def test_unsealed_document(ex, refused):
    unsealed = make_document(ex.org.office, ex.personas["bob"], sealed=False, doc_number="x1")
    response = post(ex.personas["bob"], unsealed.pk, to_units=[ex.org.bureau.pk])
    refused(response, 409, "document_not_sealed")


def test_unknown_units_are_named(ex, refused):
    bureau = ex.org.bureau.pk
    response = post(
        ex.personas["bob"], ex.document.pk, to_units=[bureau, 999001], cc_units=[999002]
    )
    error = refused(response, 400, "unit_not_found")
    assert error["fields"] == {"to_units": ["999001"], "cc_units": ["999002"]}
    assert error["unit_ids"] == [999001, 999002]


def test_same_unit_in_to_and_cc(ex, refused):
    bureau = ex.org.bureau.pk
    response = post(ex.personas["bob"], ex.document.pk, to_units=[bureau], cc_units=[bureau])
    error = refused(response, 400, "recipient_duplicated")
    assert error["unit_ids"] == [bureau]


def test_own_unit(ex, refused):
    response = post(
        ex.personas["bob"], ex.document.pk, to_units=[ex.org.bureau.pk, ex.org.office.pk]
    )
    error = refused(response, 400, "own_unit_recipient")
    assert error["fields"] == {"to_units": [str(ex.org.office.pk)]}


def test_unit_outside_the_exchange(ex, refused):
    closed = make_unit("停用单位", "bureau", ex.org.city, code="C-OLD")
    closed.exchange_enabled = False
    closed.save(update_fields=["exchange_enabled"])
    response = post(ex.personas["bob"], ex.document.pk, cc_units=[closed.pk])
    error = refused(response, 400, "unit_not_exchange_enabled")
    assert error["fields"] == {"cc_units": [str(closed.pk)]}


def test_no_recipient_unknown_group_and_malformed(ex, refused):
    bob = ex.personas["bob"]
    refused(post(bob, ex.document.pk), 400, "validation_error")
    refused(post(bob, ex.document.pk, groups=[424242]), 400, "group_not_found")
    refused(post(bob, ex.document.pk, to_units=["x"]), 400, "validation_error")
    refused(post(bob, ex.document.pk, to_units=[1], extra=1), 400, "unknown_field")


def test_incoming_document(ex, refused):
    incoming = make_document(ex.org.office, ex.personas["bob"], direction="incoming", doc_number="")
    response = post(ex.personas["bob"], incoming.pk, to_units=[ex.org.bureau.pk])
    refused(response, 422, "document_not_outgoing")


def test_who_may_dispatch(ex, refused):
    target = {"to_units": [ex.org.bureau.pk]}
    # charlie (another unit) cannot see it: 404, recorded
    refused(post(ex.personas["charlie"], ex.document.pk, **target), 404, "not_found")
    assert AuditEvent.objects.filter(action="document.access_denied", actor_username="charlie")
    # leo (a leader of the office) sees it but is not its clerk: 403, recorded
    refused(post(ex.personas["leo"], ex.document.pk, **target), 403, "permission_denied")
    assert AuditEvent.objects.filter(action="exchange.dispatch", result="denied")
    refused(post(None, ex.document.pk, **target), 401, "not_authenticated")


def test_dispatched_twice(ex):
    bob, target = ex.personas["bob"], {"to_units": [ex.org.bureau.pk]}
    assert post(bob, ex.document.pk, **target).status_code == 202
    again = post(bob, ex.document.pk, to_units=[ex.org.district.pk])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_dispatched"
    assert again.json()["error"]["dispatch_id"] == Dispatch.objects.get().pk
    assert Receipt.objects.count() == 1


def test_replay_with_the_same_key_is_the_first_answer(ex):
    client = client_for(ex.personas["bob"])
    path = f"/api/v1/documents/{ex.document.pk}/dispatch/"
    body = {"to_units": [ex.org.bureau.pk]}
    # a fresh key: the shared cache (Redis in CI) outlives the test database
    key = f"dispatch-{uuid.uuid4()}"
    first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 202
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert Dispatch.objects.count() == 1 and Receipt.objects.count() == 1


def test_a_failure_mid_write_leaves_nothing_half_sent(ex):
    """The Dispatch row is written before the receipts: if writing them fails, the
    transaction takes the Dispatch (and its audit event) with it."""
    units = [make_unit(f"单位{i}", "bureau", ex.org.city, code=f"C-U{i}").pk for i in range(5)]
    events = AuditEvent.objects.count()
    with (
        mock.patch.object(Receipt.objects, "bulk_create", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        actions.dispatch_document(ex.document.pk, ex.personas["bob"], to_units=units, cc_units=[])
    assert nothing_sent()
    assert AuditEvent.objects.count() == events


def test_groups_expand_to_main_recipients_explicit_cc_wins(ex, django_capture_on_commit_callbacks):
    org = ex.org
    group = ExchangeGroup.objects.create(name="全体区县")
    group.units.set([org.district.pk, org.township.pk])
    response = post(
        ex.personas["bob"],
        ex.document.pk,
        to_units=[org.bureau.pk],
        cc_units=[org.township.pk],
        groups=[group.pk],
    )
    assert response.status_code == 202, response.content
    roles = dict(Receipt.objects.values_list("unit_id", "role"))
    assert roles == {org.bureau.pk: "to", org.district.pk: "to", org.township.pk: "cc"}
    assert response.json()["group_ids"] == [group.pk]


@pytest.mark.parametrize("status", ["draft", "returned", "withdrawn"])
def test_sealed_but_returned_or_withdrawn_document(ex, refused, status):
    # The seal was applied to a version that has since gone back for revision (or was
    # withdrawn): sending that old sealed PDF would send what is no longer the text.
    document = make_document(ex.org.office, ex.personas["bob"], status=status, doc_number="x2")
    response = post(ex.personas["bob"], document.pk, to_units=[ex.org.bureau.pk])
    error = refused(response, 409, "document_not_final")
    assert error["status"] == status


def test_sealed_document_still_in_its_flow_may_be_dispatched(ex):
    # The distribute (分发) step comes after the seal step, while the flow is running.
    document = make_document(
        ex.org.office, ex.personas["bob"], status="in_progress", doc_number="x3"
    )
    response = post(ex.personas["bob"], document.pk, to_units=[ex.org.bureau.pk])
    assert response.status_code == 202, response.content
