"""Search in Chinese (全文检索): two-character words inside longer ones, every word
must match, ranking by relevance and date, scoped to the audience.
Docs: docs/publishing.md#search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.common.search import query_terms, search_document
from api.publishing.models import Post
from tests.api.publishing.conftest import publish
from tests.conftest import requires_postgres
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _body(*texts: str) -> list[dict]:
    return [{"level": 0, "text": t} for t in texts]


def test_segmentation_keeps_two_character_words():
    document = search_document("关于做好防汛抗旱和安全生产工作的通知").split()
    for word in ("防汛", "抗旱", "安全", "生产", "通知"):
        assert word in document
    assert query_terms("汛期 安全！") == ["汛期", "安全"]
    assert query_terms("！？ ") == []


def _search(client, q: str) -> list[int]:
    response = client.get("/api/v1/search/", {"q": q})
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_search_finds_words_in_body_title_and_scopes_to_audience(world, org):
    city = publish(
        world, {"kind": "city"}, title="工作动态", body=_body("我市召开防汛抗旱工作会议。")
    )
    bureau_only = publish(
        world,
        {"kind": "units", "unit_ids": [org.bureau.pk]},
        title="发改委内部通知",
        body=_body("做好防汛值班。"),
    )
    other = publish(world, {"kind": "city"}, title="教育工作", body=_body("义务教育均衡发展。"))
    reader, outsider = client_for(world.reader), client_for(world.district_reader)
    assert set(_search(reader, "防汛")) == {city, bureau_only}
    assert _search(outsider, "防汛") == [city]
    assert _search(reader, "教育") == [other]
    assert _search(reader, "防汛 教育") == []  # every word must match
    assert reader.get("/api/v1/search/").status_code == 400
    assert reader.get("/api/v1/search/", {"q": "x" * 101}).status_code == 400


def _ranking(world) -> None:
    now = timezone.now()
    strong = publish(
        world,
        {"kind": "city"},
        title="安全生产专项整治",
        body=_body("安全生产是底线。安全检查全覆盖。", "落实安全责任。"),
    )
    weak = publish(
        world,
        {"kind": "city"},
        title="工作简报",
        body=_body("本期内容包括教育、卫生、交通，以及安全等方面的工作。"),
    )
    old_strong = publish(
        world,
        {"kind": "city"},
        title="安全生产专项整治（去年）",
        body=_body("安全生产是底线。安全检查全覆盖。", "落实安全责任。"),
    )
    Post.objects.filter(pk=old_strong).update(published_at=now - timedelta(days=365))
    ids = _search(client_for(world.reader), "安全")
    # The most relevant first; the same text a year old falls below a weak match of today.
    assert ids == [strong, weak, old_strong]


def test_ranking_by_relevance_and_date_sqlite(world):
    _ranking(world)


@requires_postgres
def test_ranking_by_relevance_and_date_postgres(world):
    _ranking(world)


def test_ended_posts_leave_lists_but_stay_searchable(world, org):
    post_id = publish(world, {"kind": "city"}, title="防汛通知（已结束）", body=_body("防汛"))
    Post.objects.filter(pk=post_id).update(ends_at=timezone.now() - timedelta(days=1))
    reader = client_for(world.reader)
    news = reader.get(f"/api/v1/channels/{world.channel.pk}/posts/").json()
    assert post_id not in [p["id"] for p in news["results"] + news["pinned"]]
    assert _search(reader, "防汛") == [post_id]
