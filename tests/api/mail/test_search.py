"""Mail search through the shared Chinese search helper (docs/mail.md#search):
jieba words, every word must match, ranked by relevance and date."""

from __future__ import annotations

import pytest

from tests.api.mail.conftest import text_file

pytestmark = pytest.mark.django_db


def _subjects(client, q: str, **params) -> list[str]:
    response = client.get("/api/v1/mail/messages/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return [r["subject"] for r in response.json()["results"]]


def test_results_rank_by_relevance_not_only_by_date(world):
    bob = f"user:{world.p['bob'].pk}"
    world.send("alice", subject="安全检查", body="安全第一，安全生产，确保安全。", to=[bob])
    world.send(
        "alice",
        subject="周报",
        body="本周事项：会议筹备、人员培训、来访接待、档案整理，另有一项涉及安全。",
        to=[bob],
    )
    world.send("alice", subject="通知", body="明天开会。", to=[bob])
    # A substring match ordered newest first would put 周报 first.
    assert _subjects(world.client("bob"), "安全") == ["安全检查", "周报"]


def test_query_words_are_cut_by_jieba_and_found_apart(world):
    bob = f"user:{world.p['bob'].pk}"
    upload = world.client("alice").post(
        "/api/v1/mail/attachments/",
        {"file": text_file(content="汛期各单位要注意安全，值班人员到岗。")},
        format="multipart",
    )
    world.send("alice", subject="值班安排", body="见附件", to=[bob], files=[upload.json()["id"]])
    world.send("alice", subject="汛期", body="雨量偏多", to=[bob])
    bob_client = world.client("bob")
    # "汛期安全" is not a substring of anything; jieba asks for 汛期 AND 安全.
    assert _subjects(bob_client, "汛期安全") == ["值班安排"]
    # a two-character word kept inside a longer jieba word (注意安全) is found
    assert _subjects(bob_client, "安全") == ["值班安排"]
    assert _subjects(bob_client, "暴雨") == []
    # charlie holds none of it
    assert _subjects(world.client("charlie"), "汛期") == []


def test_search_pages_by_number(world, settings):
    bob = f"user:{world.p['bob'].pk}"
    world.send("alice", subject="安全", to=[bob])
    client = world.client("bob")
    first = client.get("/api/v1/mail/messages/", {"q": "安全"}).json()
    assert first["next"] is None and first["previous"] is None
    assert [r["subject"] for r in first["results"]] == ["安全"]
    assert client.get("/api/v1/mail/messages/", {"q": "安全", "page": 2}).json()["results"] == []
    too_far = client.get("/api/v1/mail/messages/", {"q": "安全", "page": 26})
    assert too_far.status_code == 400
    assert client.get("/api/v1/mail/messages/", {"q": "安全", "page": "x"}).status_code == 400
