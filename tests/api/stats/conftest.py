"""The hand-computed statistics fixture (docs/supervision.md#worked-example).

Tasks around China's 2025 National Day holiday (1–8 October off; Sunday 28 September
and Saturday 11 October were make-up working days), with their times in Shanghai. The
working clock runs 24 hours on every working day and stands still otherwise
(docs/workdays.md), so each task's working seconds are written out by hand below and
checked against api.workdays in test_fixture_working_seconds_match_the_calendar.

Period: 2025-09-26 (Fri) .. 2025-10-17 (Fri).

| task | principal | step | received | acted | due | hours | notes |
|---|---|---|---|---|---|---|---|
| T1 | bob | review | Fri 26 Sep 10:00 | Fri 26 Sep 16:00 | Sun 28 Sep 10:00 | 6 | |
| T2 | bob | countersign | Sun 28 Sep 15:00 (make-up) | Mon 29 Sep 09:00 | Mon 29 Sep 15:00 | 9+9 = 18 | slow |
| T3 | leo | countersign | Tue 30 Sep 16:00 | Thu 9 Oct 10:00 | Thu 9 Oct 16:00 | 8+0+10 = 18 | returned, slow |
| T4 | leo | sign_off | Thu 9 Oct 09:00 | Sat 11 Oct 11:00 (make-up) | Fri 10 Oct 09:00 | 15+24+11 = 50 | overdue, slow |
| T5 | bob | review | Mon 13 Oct 09:00 | Mon 13 Oct 11:00 | Tue 14 Oct 09:00 | 2 | |
| T6 | bob | circulate | Tue 14 Oct 10:00 | Wed 15 Oct 14:00 | Wed 15 Oct 10:00 | 14+14 = 28 | overdue, slow (acknowledge) |
| T7 | bob | review | Thu 16 Oct 09:00 | still open | Fri 17 Oct 09:00 | — | open and overdue |
| T11 | charlie for leo | countersign | Fri 17 Oct 09:00 | Fri 17 Oct 10:00 | Mon 20 Oct 09:00 | 1 | B acted for A: counts for leo |
| T12 | charlie | review | Mon 13 Oct 09:00 | Mon 13 Oct 13:00 | Tue 14 Oct 09:00 | 4 | bureau |

Not counted: T8 (bob, transferred 13 Oct), T9 (an automatic number step), T10 (bob,
approved 20 Oct — after the period), T13 (bob, open, due 20 Oct — after the period).
"""

# The fixture is a table: one task per line reads better than wrapped tuples.
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from api.workdays.deadlines import TZ
from api.workflow.models import Task, WorkflowInstance, WorkflowTemplate

H = 3600


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=TZ)


# name: (principal, acting person or None, step, state, action, received, acted, due, seconds)
ROWS = {
    "T1": ("bob", None, "review", "done", "approve", at(9, 26, 10), at(9, 26, 16), at(9, 28, 10), 6 * H),
    "T2": ("bob", None, "countersign", "done", "approve", at(9, 28, 15), at(9, 29, 9), at(9, 29, 15), 18 * H),
    "T3": ("leo", None, "countersign", "returned", "return", at(9, 30, 16), at(10, 9, 10), at(10, 9, 16), 18 * H),
    "T4": ("leo", None, "sign_off", "done", "approve", at(10, 9, 9), at(10, 11, 11), at(10, 10, 9), 50 * H),
    "T5": ("bob", None, "review", "done", "approve", at(10, 13, 9), at(10, 13, 11), at(10, 14, 9), 2 * H),
    "T6": ("bob", None, "circulate", "done", "acknowledge", at(10, 14, 10), at(10, 15, 14), at(10, 15, 10), 28 * H),
    "T7": ("bob", None, "review", "open", "", at(10, 16, 9), None, at(10, 17, 9), None),
    "T8": ("bob", None, "review", "transferred", "transfer", at(10, 13, 9), at(10, 13, 12), at(10, 14, 9), 3 * H),
    "T10": ("bob", None, "review", "done", "approve", at(10, 17, 9), at(10, 20, 9), at(10, 20, 9), 24 * H),
    "T11": ("leo", "charlie", "countersign", "done", "approve", at(10, 17, 9), at(10, 17, 10), at(10, 20, 9), 1 * H),
    "T12": ("charlie", None, "review", "done", "approve", at(10, 13, 9), at(10, 13, 13), at(10, 14, 9), 4 * H),
    "T13": ("bob", None, "review", "open", "", at(10, 17, 9), None, at(10, 20, 9), None),
}  # fmt: skip
PERIOD = {"from": "2025-09-26", "to": "2025-10-17"}


@dataclass
class StatsFixture:
    tasks: dict[str, Task]
    instance: WorkflowInstance


def make_instance(org, drafter) -> WorkflowInstance:
    from api.documents.models import Document

    template = WorkflowTemplate.objects.create(
        unit=org.office, name="统计测试发文", direction="outgoing", created_by=drafter
    )
    document = Document.objects.create(
        direction="outgoing",
        title="关于统计测试的通知",
        doc_type="notice",
        unit=org.office,
        drafter=drafter,
    )
    return WorkflowInstance.objects.create(
        document=document, template=template, started_by=drafter, state="completed"
    )


def add_task(instance, step, state, action, received, acted, due, seconds, assignee, behalf=None):
    return Task.objects.create(
        instance=instance,
        document=instance.document,
        step_order=1,
        step_kind=step,
        step_name=step,
        assignee=assignee,
        on_behalf_of=behalf,
        state=state,
        action=action,
        received_at=received,
        acted_at=acted,
        due_at=due,
        working_seconds=seconds,
    )


@pytest.fixture
def stats_fixture(org, personas) -> StatsFixture:
    instance = make_instance(org, personas["bob"])
    tasks = {}
    for name, (principal, acting, step, state, action, rec, acted, due, secs) in ROWS.items():
        if acting is None:
            assignee, behalf = personas[principal], None
        else:
            assignee, behalf = personas[acting], personas[principal]
        tasks[name] = add_task(
            instance, step, state, action, rec, acted, due, secs, assignee, behalf
        )
    # T9: an automatic number step (no assignee) inside the period.
    tasks["T9"] = add_task(
        instance, "number", "done", "auto", at(10, 13, 9), at(10, 13, 9), None, 0, None
    )
    return StatsFixture(tasks=tasks, instance=instance)
