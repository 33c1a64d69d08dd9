"""The notification fan-out runs in the worker and is idempotent (docs/exchange.md#fan-out):
300 units through the task twice → exactly one notification per clerk."""

from __future__ import annotations

import json

import pytest
from django.db.models import Count

from api.accounts.models import Role
from api.exchange import actions
from api.exchange.models import Dispatch, Receipt
from api.exchange.tasks import fan_out_dispatch, requeue_unsent
from api.notify.models import Notification
from tests.personas import make_unit, make_user

pytestmark = pytest.mark.django_db

UNITS = 300


def test_three_hundred_units_twice_one_notification_per_clerk(
    ex, django_capture_on_commit_callbacks
):
    units, clerks = [], []
    for number in range(UNITS):
        unit = make_unit(f"区县单位{number:03d}", "bureau", ex.org.city, code=f"C-X{number:03d}")
        units.append(unit.pk)
        clerks.append(make_user(f"clerk{number:03d}", unit, Role.CLERK).pk)
    # one unit without a clerk: its unit admin is told instead
    admin_only = make_unit("无收发员单位", "bureau", ex.org.city, code="C-NOCLERK")
    admin = make_user("adm", admin_only, Role.UNIT_ADMIN)
    with django_capture_on_commit_callbacks() as callbacks:
        dispatch = actions.dispatch_document(
            ex.document.pk,
            ex.personas["bob"],
            to_units=[*units[:200], admin_only.pk],
            cc_units=units[200:],
        )
    assert len(callbacks) == 1
    assert Receipt.objects.filter(dispatch=dispatch).count() == UNITS + 1
    assert Notification.objects.count() == 0  # nothing sent inside the request

    # one receipt is recalled before the worker reaches it: nobody is told about it
    recalled = Receipt.objects.get(dispatch=dispatch, unit_id=units[5])
    actions.recall(recalled.pk, ex.personas["bob"])

    first = fan_out_dispatch.apply(args=[dispatch.pk]).get()
    second = fan_out_dispatch.apply(args=[dispatch.pk]).get()
    assert json.loads(json.dumps(first)) == first  # JSON results only
    assert first["notified"] == UNITS and second["notified"] == 0
    per_clerk = dict(
        Notification.objects.filter(kind="exchange")
        .values_list("recipient_id")
        .annotate(n=Count("id"))
        .values_list("recipient_id", "n")
    )
    expected = {pk for i, pk in enumerate(clerks) if i != 5} | {admin.pk}
    assert set(per_clerk) == expected
    assert set(per_clerk.values()) == {1}
    assert Dispatch.objects.get(pk=dispatch.pk).state == "sent"
    assert not Receipt.objects.filter(dispatch=dispatch, state="pending", notified_at=None)


def test_notify_receipt_twice_even_when_the_mark_was_lost(ex):
    """The dedup key alone keeps a repeat silent (e.g. a worker killed between the
    notification and the mark — both are in one transaction, but be safe)."""
    dispatch = actions.dispatch_document(
        ex.document.pk, ex.personas["bob"], to_units=[ex.org.bureau.pk], cc_units=[]
    )
    receipt = Receipt.objects.get(dispatch=dispatch)
    clerks = actions.clerks_by_unit([ex.org.bureau.pk])[ex.org.bureau.pk]
    assert actions.notify_receipt(receipt.pk, clerks) is True
    Receipt.objects.filter(pk=receipt.pk).update(notified_at=None)
    assert actions.notify_receipt(receipt.pk, clerks) is True
    assert Notification.objects.filter(kind="exchange").count() == 2  # bea and bert, once


def test_requeue_only_old_unsent_dispatches(ex, monkeypatch):
    dispatch = actions.dispatch_document(
        ex.document.pk, ex.personas["bob"], to_units=[ex.org.bureau.pk], cc_units=[]
    )
    sent: list[int] = []
    monkeypatch.setattr(fan_out_dispatch, "delay", sent.append)
    assert requeue_unsent(older_than_seconds=300) == 0
    assert requeue_unsent(older_than_seconds=-1) == 1 and sent == [dispatch.pk]
    fan_out_dispatch(dispatch.pk)
    assert requeue_unsent(older_than_seconds=-1) == 0  # fanned out: no longer "sending"
