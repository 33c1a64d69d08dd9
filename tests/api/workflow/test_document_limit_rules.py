"""The document time limit's rules outside HTTP (docs/workflow.md#document-time-limits):
per-unit limits, the backfill of the migration (step deadlines untouched)."""

from __future__ import annotations

import importlib
from datetime import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.apps import apps

from api.workdays import add_working_days, add_working_seconds, working_seconds_between
from api.workdays.deadlines import TZ
from api.workflow import actions
from api.workflow.models import Task, UnitTimeLimit

pytestmark = pytest.mark.django_db

BACKFILL = importlib.import_module(
    "api.workflow.migrations.0004_unit_time_limits_and_document_limit_backfill"
)
CLOCK = (
    "time_limit_days",
    "limit_started_at",
    "due_at",
    "limit_paused_at",
    "limit_paused_seconds",
    "limit_done_at",
    "overdue_at",
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_a_unit_sets_its_own_limits_nearest_unit_and_type_first(demo, outgoing):
    office, city = demo.unit("XC-OFF"), demo.unit("XC")
    UnitTimeLimit.objects.create(
        unit=city, doc_type="", ordinary_days=Decimal(5), countersign_days=Decimal(6)
    )
    UnitTimeLimit.objects.create(
        unit=office, doc_type="notice", ordinary_days=Decimal(2), countersign_days=Decimal(4)
    )
    notice, _ = outgoing(countersigners=("leader1",))
    notice.refresh_from_db()
    assert notice.time_limit_days == Decimal("2.00")  # the office's own row for notices
    assert notice.due_at == add_working_days(notice.limit_started_at, 2)
    request, _ = outgoing(doc_type="request")  # three countersigners, the city's every-type row
    request.refresh_from_db()
    assert request.time_limit_days == Decimal("6.00")
    urgent, _ = outgoing(doc_type="request", urgency="urgent")
    urgent.refresh_from_db()
    assert urgent.time_limit_days == Decimal("3.00")  # 50 % of 6


def test_the_backfill_fills_the_limit_from_the_runs_and_keeps_step_deadlines(demo, outgoing):
    with mock.patch("django.utils.timezone.now", return_value=at("2026-04-13 10:00")):
        returned, _ = outgoing()
    with mock.patch("django.utils.timezone.now", return_value=at("2026-04-13 16:00")):
        review = demo.open_task("director", returned)
        actions.return_task(review.pk, demo.user("director"), "请修改", to="drafter")
    with mock.patch("django.utils.timezone.now", return_value=at("2026-04-15 09:00")):
        actions.submit(
            returned.pk,
            demo.user("clerk"),
            demo.template("市政府办公室发文").pk,
            {
                "countersigners": [demo.user("leader1").pk],
                "sign_off_by": demo.user("mayor").pk,
            },
        )
    ordinary, _ = outgoing(countersigners=())
    documents = [returned, ordinary]
    before = {t.pk: t.due_at for t in Task.objects.filter(document__in=documents)}
    expected = {}
    for document in documents:
        document.refresh_from_db()
        expected[document.pk] = {f: getattr(document, f) for f in CLOCK}
    type(returned).objects.filter(pk__in=[d.pk for d in documents]).update(
        time_limit_days=None,
        limit_started_at=None,
        due_at=None,
        limit_paused_at=None,
        limit_paused_seconds=0,
    )

    BACKFILL.backfill_document_limits(apps, None)

    assert {t.pk: t.due_at for t in Task.objects.filter(document__in=documents)} == before
    for document in documents:
        document.refresh_from_db()
        assert {f: getattr(document, f) for f in CLOCK} == expected[document.pk]
    # the returned one: 1 day (one countersigner now) from Mon 10:00, paused Mon 16:00 → Wed 09:00
    paused = working_seconds_between(at("2026-04-13 16:00"), at("2026-04-15 09:00"))
    assert returned.limit_paused_seconds == paused
    assert returned.due_at == add_working_seconds(
        add_working_days(at("2026-04-13 10:00"), 1), paused
    )
