"""Races on PostgreSQL with real threads and row locks (docs/exchange.md#concurrency):
two clerks sign for one receipt at once → one wins, the other gets 409; a sign-for
racing a recall → exactly one of them happens; two dispatches of one document → one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from api.common.errors import ApiError
from api.documents.models import Document
from api.exchange import actions
from api.exchange.models import Dispatch, Receipt
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment; each result is a value or the ApiError code."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except ApiError as error:
            results[index] = error.code
        except BaseException as error:  # surfaces in the assertion
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _pending_receipt(ex) -> Receipt:
    actions.dispatch_document(
        ex.document.pk, ex.personas["bob"], to_units=[ex.org.bureau.pk], cc_units=[]
    )
    return Receipt.objects.get(unit=ex.org.bureau)


def test_two_clerks_sign_for_the_same_receipt(ex):
    receipt = _pending_receipt(ex)
    results = race(
        lambda: actions.sign_for(receipt.pk, ex.bea).receipt.state,
        lambda: actions.sign_for(receipt.pk, ex.bert).receipt.state,
    )
    assert sorted(map(str, results)) == ["already_signed_for", "signed_for"]
    assert Document.objects.filter(direction="incoming").count() == 1
    receipt.refresh_from_db()
    assert receipt.state == "signed_for" and receipt.incoming_document_id is not None


def test_sign_for_racing_a_recall(ex):
    receipt = _pending_receipt(ex)
    results = race(
        lambda: actions.sign_for(receipt.pk, ex.bea).receipt.state,
        lambda: actions.recall(receipt.pk, ex.personas["bob"]).state,
    )
    receipt.refresh_from_db()
    if receipt.state == "signed_for":
        assert results == ["signed_for", "already_signed_for"]
        assert Document.objects.filter(direction="incoming").count() == 1
    else:
        assert results == ["receipt_not_pending", "recalled"]
        assert not Document.objects.filter(direction="incoming").exists()


def test_two_dispatches_of_one_document(ex):
    bob = ex.personas["bob"]
    results = race(
        lambda: (
            actions.dispatch_document(
                ex.document.pk, bob, to_units=[ex.org.bureau.pk], cc_units=[]
            ).pk
        ),
        lambda: (
            actions.dispatch_document(
                ex.document.pk, bob, to_units=[ex.org.district.pk], cc_units=[]
            ).pk
        ),
    )
    assert Dispatch.objects.count() == 1 and Receipt.objects.count() == 1
    assert sorted(results, key=str)[-1] == "already_dispatched"
    assert Dispatch.objects.get().pk in results
