"""The whole 信息报送 flow over the API (docs/submissions.md): two units submit, the
editor adopts one into a new issue and merges the other's item with it, returns a
third with a reason; the issue is approved, published (numbered, rendered) and a
leader instructs on an item; both units' scores change by exactly the rules' points,
each entry naming its rule."""

from __future__ import annotations

import pytest
from django.utils import timezone

from api.audit.models import AuditEvent
from api.submissions.models import ScoreEntry, ScoringRule
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def post(client, url, body=None, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body or {}, format="json", **headers)


def draft_and_send(w, clerk, leader, title):
    c = client_for(clerk)
    r = post(c, "/api/v1/submissions/", {"title": title, "body": f"{title}。", "category": "经济"})
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    r = post(client_for(leader), f"/api/v1/submissions/{sid}/approve/")
    assert r.status_code == 200, r.content
    r = post(c, f"/api/v1/submissions/{sid}/submit/", {"offices": [w.office.pk]})
    assert r.status_code == 200, r.content
    assert r.json()["deliveries"][0]["state"] == "pending"
    return sid


def scores(client, year):
    r = client.get(f"/api/v1/submission-scores/?year={year}")
    assert r.status_code == 200
    return {row["unit_id"]: row["points"] for row in r.json()["results"]}


def test_submit_adopt_merge_return_publish_instruct_and_score(world):
    w = world
    editor = client_for(w.editor)
    ScoringRule.objects.create(
        office=w.office, year=timezone.localtime().year, event="adopted", points=7
    )
    a = draft_and_send(w, w.clerk_a, w.leader_a, "东区冬季供暖保障有力")
    b = draft_and_send(w, w.clerk_b, w.leader_b, "全市供暖价格平稳")
    c = draft_and_send(w, w.clerk_c, w.leader_c, "教育局召开例会")

    issue = post(editor, "/api/v1/journal-issues/", {"journal": w.journal.pk}).json()
    r = post(
        editor,
        f"/api/v1/submissions/{a}/adopt/",
        {"office": w.office.pk, "issue": issue["id"]},
        key="adopt-a-0001",
    )
    assert r.status_code == 200, r.content
    replay = post(
        editor,
        f"/api/v1/submissions/{a}/adopt/",
        {"office": w.office.pk, "issue": issue["id"]},
        key="adopt-a-0001",
    )
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    r = post(editor, f"/api/v1/submissions/{b}/merge/", {"office": w.office.pk, "into": a})
    assert r.status_code == 200, r.content
    assert r.json()["deliveries"][0]["state"] == "merged"
    r = post(
        editor,
        f"/api/v1/submissions/{c}/return/",
        {"office": w.office.pk, "reason": "内容属一般性会议"},
    )
    assert r.json()["deliveries"][0]["reason"] == "内容属一般性会议"
    assert (
        post(
            editor, f"/api/v1/submissions/{c}/adopt/", {"office": w.office.pk, "issue": issue["id"]}
        ).status_code
        == 409
    )

    chief = client_for(w.chief)
    assert (
        post(editor, f"/api/v1/journal-issues/{issue['id']}/publish/").json()["error"]["code"]
        == "issue_not_approved"
    )
    assert post(chief, f"/api/v1/journal-issues/{issue['id']}/approve/").status_code == 200
    r = post(editor, f"/api/v1/journal-issues/{issue['id']}/publish/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "published" and body["number"] == 1
    assert body["items"][0]["unit_ids"] == [w.unit_a.pk, w.unit_b.pk]
    pdf = editor.get(f"/api/v1/journal-issues/{issue['id']}/pdf/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")

    # Any signed-in reader sees the published issue.
    assert client_for(w.clerk_c).get(f"/api/v1/journal-issues/{issue['id']}/").status_code == 200

    year = body["year"]
    before = scores(editor, year)
    r = post(
        chief,
        f"/api/v1/submissions/{b}/instructions/",
        {"office": w.office.pk, "text": "经验很好，请推广。"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["instructions"][0]["text"] == "经验很好，请推广。"
    after = scores(editor, year)
    instruction_rule = ScoringRule.objects.get(office=w.office, year=year, event="instruction")
    assert after[w.unit_b.pk] - before[w.unit_b.pk] == instruction_rule.points
    assert after[w.unit_a.pk] == 7
    merged_rule = ScoringRule.objects.get(office=w.office, year=year, event="merged")
    assert before[w.unit_b.pk] == merged_rule.points
    assert w.unit_c.pk not in after

    # The submitting unit sees the instruction; every entry names its rule and item.
    detail = client_for(w.clerk_b).get(f"/api/v1/submissions/{b}/").json()
    assert detail["instructions"][0]["leader"]["display_name"] == "秘书长"
    entries = editor.get(f"/api/v1/submission-score-entries/?unit={w.unit_b.pk}").json()["results"]
    assert {(e["event"], e["rule"]["id"], e["submission_id"]) for e in entries} == {
        ("merged", merged_rule.pk, b),
        ("instruction", instruction_rule.pk, b),
    }
    assert ScoreEntry.objects.count() == 3
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "submissions.adopted",
        "submissions.merged",
        "submissions.returned",
        "submissions.issue_approved",
        "submissions.issue_published",
        "submissions.instructed",
    } <= actions
    csv = editor.get(f"/api/v1/submission-scores/?year={year}&export=csv")
    assert csv.status_code == 200 and "东区人民政府" in csv.content.decode()
