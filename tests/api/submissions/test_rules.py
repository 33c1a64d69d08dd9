"""Refusals, scope and the smaller rules of 信息报送 (docs/submissions.md): another
unit's item is a 404 (recorded), only the unit's leader approves, duplicates to the
same office are refused, calls show late and missing units and urge them, a changed
rule applies from then on, lists keep a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.audit.models import AuditEvent
from api.common.errors import ApiError
from api.notify.models import Notification
from api.submissions import actions
from api.submissions.models import Delivery, ScoreEntry
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_another_units_item_is_404_and_recorded(world):
    s = actions.create_submission(world.clerk_a, title="东区信息", body="正文")
    r = client_for(world.clerk_b).get(f"/api/v1/submissions/{s.pk}/")
    assert r.status_code == 404
    r = client_for(world.clerk_b).post(f"/api/v1/submissions/{s.pk}/approve/", {}, format="json")
    assert r.status_code == 404
    assert AuditEvent.objects.filter(action="submissions.approve", result="denied").exists()
    # The editor does not see a draft that was never sent to the office.
    assert client_for(world.editor).get(f"/api/v1/submissions/{s.pk}/").status_code == 404


def test_only_the_units_leader_approves_and_only_a_clerk_drafts(world):
    s = actions.create_submission(world.clerk_a, title="东区信息", body="正文")
    r = client_for(world.clerk_a).post(f"/api/v1/submissions/{s.pk}/approve/", {}, format="json")
    assert r.status_code == 403
    r = client_for(world.leader_a).post(
        "/api/v1/submissions/", {"title": "x", "body": "y"}, format="json"
    )
    assert r.status_code == 403
    r = client_for(world.clerk_a).post(
        f"/api/v1/submissions/{s.pk}/submit/", {"offices": [world.office.pk]}, format="json"
    )
    assert r.json()["error"]["code"] == "submission_not_approved"


def test_duplicate_to_the_same_office_is_refused_and_nothing_is_sent(world):
    s = world.sent(world.clerk_a, world.leader_a)
    r = client_for(world.clerk_a).post(
        f"/api/v1/submissions/{s.pk}/submit/",
        {"offices": [world.second_office.pk, world.office.pk]},
        format="json",
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "duplicate_submission"
    assert r.json()["error"]["office_ids"] == [world.office.pk]
    assert Delivery.objects.filter(submission=s).count() == 1
    r = client_for(world.clerk_a).post(
        f"/api/v1/submissions/{s.pk}/submit/", {"offices": [world.second_office.pk]}, format="json"
    )
    assert r.status_code == 200
    assert Delivery.objects.filter(submission=s).count() == 2


def test_editor_of_another_office_cannot_decide(world):
    s = world.sent(world.clerk_a, world.leader_a)
    issue = actions.create_issue(world.editor, world.journal.pk)
    with pytest.raises(ApiError) as error:
        actions.adopt(s.pk, world.chief, office_id=world.office.pk, issue_id=issue.pk)
    assert error.value.status_code == 403
    with pytest.raises(ApiError) as error:
        actions.return_item(s.pk, world.editor, office_id=world.office.pk, reason="  ")
    assert error.value.code == "validation_error"


def test_only_office_leader_instructs_and_only_on_adopted_items(world):
    s = world.sent(world.clerk_a, world.leader_a)
    with pytest.raises(ApiError) as error:
        actions.instruct(s.pk, world.chief, office_id=world.office.pk, text="阅")
    assert error.value.code == "item_not_adopted"
    issue = actions.create_issue(world.editor, world.journal.pk)
    actions.adopt(s.pk, world.editor, office_id=world.office.pk, issue_id=issue.pk)
    with pytest.raises(ApiError) as error:
        actions.instruct(s.pk, world.editor, office_id=world.office.pk, text="阅")
    assert error.value.status_code == 403


def test_call_shows_late_and_missing_and_urges_the_missing(world):
    past = timezone.now() - timedelta(hours=1)
    call = actions.create_call(
        world.editor,
        office_id=world.office.pk,
        topic="冬季安全生产",
        deadline=past,
        unit_ids=[world.unit_a.pk, world.unit_b.pk],
    )
    s = actions.create_submission(world.clerk_a, title="东区安全生产", body="正文", call_id=call.pk)
    actions.approve_submission(s.pk, world.leader_a)
    actions.submit_submission(s.pk, world.clerk_a, [world.office.pk])
    body = client_for(world.editor).get(f"/api/v1/calls/{call.pk}/").json()
    states = {row["unit_id"]: row["state"] for row in body["units"]}
    assert states == {world.unit_a.pk: "late", world.unit_b.pk: "missing_overdue"}
    late = ScoreEntry.objects.get(event="late_answer")
    assert late.unit_id == world.unit_a.pk and late.points == late.rule.points < 0
    r = client_for(world.editor).post(f"/api/v1/calls/{call.pk}/urge/", {}, format="json")
    assert r.json() == {"urged_unit_ids": [world.unit_b.pk]}
    urges = Notification.objects.filter(recipient=world.clerk_b, title__startswith="信息报送催报")
    assert urges.count() == 1 and urges.get().urgency == "high"
    # The unit that was not asked does not see the call.
    assert client_for(world.clerk_c).get(f"/api/v1/calls/{call.pk}/").status_code == 404


def test_changed_rule_applies_from_then_on_and_old_entries_keep_their_points(world):
    year = timezone.localtime().year
    issue = actions.create_issue(world.editor, world.journal.pk)
    first = world.sent(world.clerk_a, world.leader_a, "一")
    actions.adopt(first.pk, world.editor, office_id=world.office.pk, issue_id=issue.pk)
    r = client_for(world.editor).post(
        "/api/v1/submission-rules/",
        {"office": world.office.pk, "year": year, "event": "adopted", "points": 15},
        format="json",
    )
    assert r.status_code == 200 and r.json()["points"] == 15
    second = world.sent(world.clerk_a, world.leader_a, "二")
    actions.adopt(second.pk, world.editor, office_id=world.office.pk, issue_id=issue.pk)
    points = list(ScoreEntry.objects.order_by("id").values_list("points", flat=True))
    assert points == [10, 15]
    r = client_for(world.clerk_a).post(
        "/api/v1/submission-rules/",
        {"office": world.office.pk, "year": year, "event": "adopted", "points": 99},
        format="json",
    )
    assert r.status_code == 403


@pytest.mark.parametrize("count", [2, 8])
def test_submission_list_query_count_is_constant(world, count, django_assert_max_num_queries):
    for i in range(count):
        world.sent(world.clerk_a, world.leader_a, f"信息{i}")
    client = client_for(world.editor)
    with django_assert_max_num_queries(12):
        r = client.get(f"/api/v1/submissions/?office={world.office.pk}")
    assert len(r.json()["results"]) == count


@pytest.mark.parametrize("count", [2, 8])
def test_issue_and_entry_lists_query_count_is_constant(world, count, django_assert_max_num_queries):
    for i in range(count):
        issue = actions.create_issue(world.editor, world.journal.pk)
        s = world.sent(world.clerk_a, world.leader_a, f"信息{i}")
        actions.adopt(s.pk, world.editor, office_id=world.office.pk, issue_id=issue.pk)
    client = client_for(world.editor)
    with django_assert_max_num_queries(10):
        assert len(client.get("/api/v1/journal-issues/").json()["results"]) == count
    with django_assert_max_num_queries(10):
        r = client.get(f"/api/v1/submission-score-entries/?unit={world.unit_a.pk}")
        assert len(r.json()["results"]) == count
    with django_assert_max_num_queries(10):
        assert len(client.get("/api/v1/calls/").json()["results"]) == 0


def test_editor_searches_incoming_items_in_chinese(world):
    world.sent(world.clerk_a, world.leader_a, "东区推进防汛抗旱工作")
    world.sent(world.clerk_b, world.leader_b, "市发改委优化营商环境")
    actions.create_submission(world.clerk_c, title="教育局防汛演练", body="草稿，未报送")
    client = client_for(world.editor)
    r = client.get("/api/v1/submissions/", {"q": "防汛"})
    assert r.status_code == 200
    assert [item["title"] for item in r.json()["results"]] == ["东区推进防汛抗旱工作"]
    r = client_for(world.clerk_c).get("/api/v1/submissions/", {"q": "防汛"})
    assert [item["title"] for item in r.json()["results"]] == ["教育局防汛演练"]
