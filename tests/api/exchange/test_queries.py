"""Query budgets of the exchange's list endpoints: the count does not grow with rows
(docs/exchange.md#api, docs/api.md#pagination)."""

from __future__ import annotations

import pytest

from api.accounts.models import Role, RoleAssignment
from api.exchange import actions
from api.exchange.models import ExchangeGroup, Receipt
from tests.api.exchange.conftest import make_document
from tests.personas import client_for, make_unit, make_user

pytestmark = pytest.mark.django_db


def _units(ex, count: int, prefix: str) -> list[int]:
    return [
        make_unit(f"{prefix}{i}", "bureau", ex.org.city, code=f"{prefix}{i}").pk
        for i in range(count)
    ]


def _count(django_assert_max_num_queries, client, path: str, budget: int, expected: int):
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected
    return len(captured)


def test_dispatch_status_does_not_grow(ex, django_assert_max_num_queries):
    bob = ex.personas["bob"]
    actions.dispatch_document(
        ex.document.pk, bob, to_units=_units(ex, 3, "S"), cc_units=[ex.org.bureau.pk]
    )
    client = client_for(bob)
    path = f"/api/v1/documents/{ex.document.pk}/dispatch/"
    small = _count(django_assert_max_num_queries, client, path, 20, 4)
    # a second document dispatched to ten times as many units
    big_doc = make_document(ex.org.office, bob, doc_number="测府办发〔2026〕2号")
    # the first dispatch moves on too (a receipt signed for): the count stays the same
    actions.sign_for(Receipt.objects.get(unit=ex.org.bureau).pk, ex.bea)
    actions.dispatch_document(big_doc.pk, bob, to_units=_units(ex, 40, "B"), cc_units=[])
    path = f"/api/v1/documents/{big_doc.pk}/dispatch/"
    big = _count(django_assert_max_num_queries, client, path, small, 40)
    assert big == small


def test_inbox_does_not_grow(ex, django_assert_max_num_queries):
    bob = ex.personas["bob"]
    client = client_for(ex.bea)
    documents = [
        make_document(ex.org.office, bob, doc_number=f"测府办发〔2026〕{n}号")
        for n in range(10, 40)
    ]
    actions.dispatch_document(documents[0].pk, bob, to_units=[ex.org.bureau.pk], cc_units=[])
    small = _count(django_assert_max_num_queries, client, "/api/v1/exchange/inbox/", 20, 1)
    for document in documents[1:]:
        actions.dispatch_document(document.pk, bob, to_units=[ex.org.bureau.pk], cc_units=[])
    big = _count(django_assert_max_num_queries, client, "/api/v1/exchange/inbox/", small, 30)
    assert big == small


def test_groups_do_not_grow(ex, django_assert_max_num_queries):
    units = _units(ex, 5, "G")
    ExchangeGroup.objects.create(name="甲").units.set(units[:2])
    client = client_for(ex.personas["charlie"])
    small = _count(django_assert_max_num_queries, client, "/api/v1/exchange/groups/", 20, 1)
    for index in range(12):
        ExchangeGroup.objects.create(name=f"组{index}").units.set(units)
    big = _count(django_assert_max_num_queries, client, "/api/v1/exchange/groups/", small, 13)
    assert big == small


def test_a_second_clerk_unit_is_in_the_inbox(ex):
    """A person who is clerk of two units sees both units' receipts."""
    other = make_unit("第二单位", "bureau", ex.org.city, code="C-SECOND")
    both = make_user("both", ex.org.bureau, Role.CLERK)
    RoleAssignment.objects.create(user=both, role=Role.CLERK, unit=other)
    actions.dispatch_document(
        ex.document.pk, ex.personas["bob"], to_units=[ex.org.bureau.pk, other.pk], cc_units=[]
    )
    results = client_for(both).get("/api/v1/exchange/inbox/").json()["results"]
    assert sorted(r["unit"]["id"] for r in results) == sorted([ex.org.bureau.pk, other.pk])


def test_dispatch_status_pages_follow_the_cursor(ex):
    bob = ex.personas["bob"]
    units = _units(ex, 5, "P")
    actions.dispatch_document(ex.document.pk, bob, to_units=units, cc_units=[])
    client = client_for(bob)
    page = client.get(f"/api/v1/documents/{ex.document.pk}/dispatch/?page_size=2").json()
    seen = []
    while True:
        assert page["dispatch"]["counts"]["total"] == 5
        seen += [r["unit"]["id"] for r in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert seen == units  # dispatch order, each once
