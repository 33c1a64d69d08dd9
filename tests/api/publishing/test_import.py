"""The feed import connector: RSS and JSON from a loopback stand-in of the government
website, de-duplicated by source id. Docs: docs/publishing.md#import-connector."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.audit.models import AuditEvent
from api.publishing.actions.imports import import_channel
from api.publishing.models import Channel, Post, PostState
from tests.api.publishing.feed_fake import FeedFake
from tests.conftest import requires_postgres
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _item(n: int) -> dict:
    return {
        "id": f"gov-{n}",
        "title": f"新城市人民政府关于第{n}批政府信息公开目录的公告",
        "content": f"<p>根据《政府信息公开条例》，现公布第{n}批目录。</p>"
        "<p>防汛专项资金使用情况。</p>",
        "url": f"http://www.xincheng.gov.cn/zwgk/{n}.html",
        "published": datetime(2026, 11, n, 9, 0, tzinfo=UTC),
    }


@requires_postgres
@pytest.mark.parametrize("feed_format,path", [("rss", "/rss"), ("json", "/api/items.json")])
def test_import_is_de_duplicated_by_source_id(world, feed_format, path):
    with FeedFake() as fake:
        channel = Channel.objects.create(
            name="政府网站",
            code=f"gov-{feed_format}",
            read_only=True,
            feed_url=fake.url + path,
            feed_format=feed_format,
        )
        fake.items = [_item(1), _item(2)]
        assert import_channel(channel.pk) == 2
        fake.items = [_item(1), _item(2), _item(3)]
        assert import_channel(channel.pk) == 1
        assert import_channel(channel.pk) == 0
        assert fake.requests == 3
    posts = Post.objects.filter(channel=channel).order_by("published_at")
    assert [p.source_id for p in posts] == ["gov-1", "gov-2", "gov-3"]
    first = posts[0]
    assert first.state == PostState.PUBLISHED
    assert first.body[0]["text"].startswith("根据《政府信息公开条例》")
    assert first.source_url.endswith("/1.html")
    # Everyone sees it (the whole city by default), and search finds the body.
    reader = client_for(world.reader)
    assert reader.get(f"/api/v1/posts/{first.pk}/").status_code == 200
    found = reader.get("/api/v1/search/?q=防汛").json()["results"]
    assert {r["id"] for r in found} == {p.pk for p in posts}
    # Read-only: nobody drafts into it.
    response = client_for(world.editor).post(
        "/api/v1/posts/", {"channel": channel.pk, "title": "x"}, format="json"
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="channel.imported").count() == 2


def test_a_broken_feed_is_noted_not_raised(world):
    with FeedFake() as fake:
        channel = Channel.objects.create(
            name="政府网站",
            code="gov",
            read_only=True,
            feed_url=fake.url + "/missing",
            feed_format="rss",
        )
        assert import_channel(channel.pk) == 0
    channel.refresh_from_db()
    assert "HTTPError" in channel.last_import_note
    assert AuditEvent.objects.filter(action="channel.import_failed").exists()
