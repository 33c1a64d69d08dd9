"""Issue numbers under concurrent publishing on PostgreSQL (docs/submissions.md#numbers):
several approved issues of one journal published at the same moment by real threads
get 1..N with no gap and no repeat; two editors adopting one item → one wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from api.common.errors import ApiError
from api.submissions import actions
from api.submissions.models import JournalIssue, ScoreEntry
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], Any]) -> list[Any]:
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


def _approved_issue(world, title: str) -> JournalIssue:
    issue = actions.create_issue(world.editor, world.journal.pk)
    s = world.sent(world.clerk_a, world.leader_a, title)
    actions.adopt(s.pk, world.editor, office_id=world.office.pk, issue_id=issue.pk)
    return actions.approve_issue(issue.pk, world.chief)


def test_concurrent_publishes_number_gap_free(world):
    issues = [_approved_issue(world, f"信息{i}") for i in range(5)]
    results = race(*[lambda i=i: actions.publish_issue(i.pk, world.editor).number for i in issues])
    assert sorted(results) == [1, 2, 3, 4, 5], results
    numbers = sorted(JournalIssue.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5]


def test_same_issue_published_twice_at_once_takes_one_number(world):
    issue = _approved_issue(world, "信息")
    other = _approved_issue(world, "信息二")
    results = race(
        lambda: actions.publish_issue(issue.pk, world.editor).number,
        lambda: actions.publish_issue(issue.pk, world.editor).number,
    )
    assert sorted(results, key=str) == [1, "issue_not_approved"], results
    assert actions.publish_issue(other.pk, world.editor).number == 2


def test_two_editors_adopt_one_item_once(world):
    second_editor = type(world.editor).objects.create_user("editor2", "x", unit=world.editor.unit)
    world.office.editors.add(second_editor)
    issue = actions.create_issue(world.editor, world.journal.pk)
    s = world.sent(world.clerk_a, world.leader_a)
    results = race(
        lambda: (
            actions.adopt(s.pk, world.editor, office_id=world.office.pk, issue_id=issue.pk).state
        ),
        lambda: (
            actions.adopt(s.pk, second_editor, office_id=world.office.pk, issue_id=issue.pk).state
        ),
    )
    assert sorted(results) == ["adopted", "already_decided"], results
    assert ScoreEntry.objects.count() == 1
