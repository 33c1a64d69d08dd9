"""The government website / information-disclosure feeds on the connector layer: a pull
stores each item once, the handler publishes it once, a broken feed is noted on its
channel and counted on the connector. Docs: docs/integrations.md#government-website."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.audit.models import AuditEvent
from api.integrations.actions import pull, pull_due
from api.integrations.models import Connector, ReceivedRecord, RecordState
from api.integrations.selectors import connectors_health
from api.integrations.testing import process_all
from api.publishing.models import Channel, Post
from tests.api.publishing.feed_fake import FeedFake
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _item(n: int) -> dict:
    return {
        "id": f"gov-{n}",
        "title": f"新城市人民政府关于第{n}批政府信息公开目录的公告",
        "content": f"<p>现公布第{n}批目录。</p><p>防汛专项资金使用情况。</p>",
        "url": f"http://www.xincheng.gov.cn/zwgk/{n}.html",
        "published": datetime(2026, 11, n, 9, 0, tzinfo=UTC),
    }


def _channel(fake: FeedFake, code: str, path: str = "/rss", feed_format: str = "rss"):
    return Channel.objects.create(
        name="政府网站",
        code=code,
        read_only=True,
        feed_url=fake.url + path,
        feed_format=feed_format,
    )


def _health() -> dict:
    return next(c for c in connectors_health() if c["name"] == "govsite")


def test_without_a_feed_channel_the_connector_has_no_work(world):
    assert _health()["configured"] is False
    assert pull("govsite") == 0


def test_each_item_is_stored_and_published_once(world):
    with FeedFake() as fake:
        rss = _channel(fake, "gov-rss")
        as_json = _channel(fake, "gov-json", "/api/items.json", "json")
        fake.items = [_item(1), _item(2)]
        assert _health()["configured"] is True
        assert pull_due() == 4  # two items in each of the two channels
        assert pull_due() == 0  # not its turn yet: claimed once
        assert process_all("govsite") == 4
        fake.items = [_item(1), _item(2), _item(3)]
        assert pull("govsite") == 2  # only the new item, once per channel
        assert pull("govsite") == 0
        assert process_all("govsite") == 2
    for channel in (rss, as_json):
        posts = Post.objects.filter(channel=channel).order_by("published_at")
        assert [p.source_id for p in posts] == ["gov-1", "gov-2", "gov-3"]
    assert ReceivedRecord.objects.filter(connector="govsite", state=RecordState.DONE).count() == 6
    assert AuditEvent.objects.filter(action="channel.imported").count() == 6
    # Published for the whole city, and search finds the body.
    found = client_for(world.reader).get("/api/v1/search/?q=防汛").json()["results"]
    assert len(found) == 6
    assert _health()["last_success_at"] is not None


def test_a_record_handled_twice_publishes_once(world):
    """The layer stores an item once; even a replayed record meets the channel's unique
    source id, so no second post appears."""
    from api.integrations.govsite.connector import handle

    with FeedFake() as fake:
        channel = _channel(fake, "gov")
        fake.items = [_item(1)]
        pull("govsite")
    record = ReceivedRecord.objects.get(connector="govsite")
    handle(record.source_id, record.payload)
    handle(record.source_id, record.payload)
    assert Post.objects.filter(channel=channel).count() == 1


def test_a_broken_feed_is_noted_and_the_others_still_come_in(world):
    with FeedFake() as fake:
        broken = _channel(fake, "gov-broken", "/missing")
        working = _channel(fake, "gov-ok")
        fake.items = [_item(1)]
        assert pull("govsite") == 1
        process_all("govsite")
        broken.refresh_from_db()
        assert "HTTPError" in broken.last_import_note
        assert Post.objects.filter(channel=working).count() == 1
        assert Connector.objects.get(name="govsite").error_count == 0
        # Every feed failing is a failed pull: counted for health, retried next turn.
        working.feed_url = fake.url + "/missing"
        working.save()
        assert pull("govsite") == 0
    assert Connector.objects.get(name="govsite").error_count == 1
    assert AuditEvent.objects.filter(action="channel.import_failed").count() == 3


def test_a_channel_that_stopped_importing_makes_a_dead_letter(world):
    with FeedFake() as fake:
        channel = _channel(fake, "gov")
        fake.items = [_item(1)]
        pull("govsite")
    Channel.objects.filter(pk=channel.pk).update(read_only=False)
    process_all("govsite")
    record = ReceivedRecord.objects.get(connector="govsite")
    assert record.state == RecordState.DEAD
    assert not Post.objects.filter(channel=channel).exists()
