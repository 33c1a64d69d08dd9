"""Statistics over tasks the real workflow engine closed (not hand-made rows): what
Task.working_seconds holds is what the figures read. Docs: docs/supervision.md.

Outgoing document of 市政府办公室 around the 2025 National Day holiday (1–8 October off,
Saturday 11 October a make-up working day):

* submitted Tue 30 Sep 16:00 → review by ``director`` (due Thu 9 Oct 16:00);
* director approves Thu 9 Oct 10:00 → 8 h (30 Sep) + 10 h (9 Oct) = 18 working hours,
  on time; the countersign opens for leader1 (due Fri 10 Oct 10:00);
* leader1 approves Sat 11 Oct 11:00 → 14 h + 24 h + 11 h = 49 working hours, late.
"""

from __future__ import annotations

from datetime import date, datetime
from unittest import mock

import pytest

from api.stats import compute
from api.workdays.deadlines import TZ
from api.workflow import actions
from tests.api.workflow.conftest import Demo, demo  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=TZ)


def test_engine_tasks_feed_the_figures(demo: Demo):  # noqa: F811
    with mock.patch("django.utils.timezone.now", return_value=at(9, 30, 16)):
        document = demo.draft()
        actions.submit(
            document.pk,
            demo.user("clerk"),
            demo.template("市政府办公室发文").pk,
            {"countersigners": [demo.user("leader1").pk], "sign_off_by": demo.user("mayor").pk},
        )
    review = demo.open_task("director", document)
    with mock.patch("django.utils.timezone.now", return_value=at(10, 9, 10)):
        actions.approve(review.pk, demo.user("director"))
    countersign = demo.open_task("leader1", document)
    with mock.patch("django.utils.timezone.now", return_value=at(10, 11, 11)):
        actions.approve(countersign.pk, demo.user("leader1"))

    review.refresh_from_db()
    countersign.refresh_from_db()
    assert (review.working_seconds, review.due_at) == (18 * 3600, at(10, 9, 16))
    # Its own day would end Fri 10 Oct 10:00, but no step is due after its document,
    # submitted Tue 30 Sep 16:00 with 1 working day (docs/workflow.md#document-time-limits).
    assert (countersign.working_seconds, countersign.due_at) == (49 * 3600, at(10, 9, 16))

    period = compute.Period(date(2025, 9, 30), date(2025, 10, 11))
    now = at(10, 12, 0)
    office = compute.figures_by("stat_unit", period, now=now)[demo.unit("XC-OFF").pk]
    assert (office.items, office.median_seconds, office.overdue) == (1, 18 * 3600, 0)
    city = compute.figures_by("stat_unit", period, now=now)[demo.unit("XC").pk]
    # Overdue: the countersign handled late, and the mayor's sign-off, which opened on
    # 11 Oct already past the document's due time (so due 9 Oct 16:00, still open).
    assert (city.items, city.median_seconds, city.overdue, city.slow) == (1, 49 * 3600, 2, 1)
    assert city.open_overdue == 1
