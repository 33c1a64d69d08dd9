"""The government website / information-disclosure platform's feeds on the connector layer.

Docs: docs/integrations.md#government-website. The feeds are public RSS 2.0 or JSON
documents whose addresses are GovDesk's own data: each read-only channel of
api.publishing with a ``feed_url`` (docs/publishing.md#import-connector). So the
connector has no endpoint or secret of its own; it has work while such a channel exists.

A pull fetches every feed channel and hands the layer one record per item, with the
source id ``<channel id>:<item id>``: the layer stores each item once, and ``handle``
turns it into a published post (api.publishing's ``import_items``, which is itself
de-duplicated by the channel's source id). A channel whose feed cannot be fetched or
parsed is noted on the channel and audited, as before, and does not stop the others;
when every feed failed to fetch the pull counts as failed (health, backoff).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from api.integrations.config import ConnectorConfig
from api.integrations.errors import PermanentError, TransientError
from api.integrations.registry import ConnectorSpec, PullContext, PullResult
from api.publishing.actions.imports import (
    FeedItem,
    feed_channel_ids,
    fetch,
    import_items,
    note_import,
    note_import_failure,
    parse_feed,
)
from api.publishing.models import Channel

NAME = "govsite"


def _payload(channel_id: int, item: FeedItem) -> dict:
    return {
        "channel_id": channel_id,
        "source_id": item.source_id,
        "title": item.title,
        "text": item.text,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
    }


def pull(context: PullContext) -> PullResult:
    records: list[tuple[str, dict]] = []
    channels = list(Channel.objects.filter(pk__in=feed_channel_ids()))
    failed = 0
    for channel in channels:
        try:
            items = parse_feed(channel, fetch(channel.feed_url))
        except (OSError, ValueError, ET.ParseError) as error:
            failed += 1
            note_import_failure(channel, error)
            continue
        note_import(channel, len(items))
        records.extend(
            (f"{channel.pk}:{item.source_id}", _payload(channel.pk, item)) for item in items
        )
    if channels and failed == len(channels):
        raise TransientError(f"none of the {failed} feeds could be fetched")
    return PullResult(records=records, cursor="")


def handle(source_id: str, payload: dict) -> None:
    channel_id = payload.get("channel_id")
    channel = (
        Channel.objects.select_related("unit").filter(pk=channel_id).first()
        if isinstance(channel_id, int)
        else None
    )
    if channel is None or not channel.read_only:
        raise PermanentError("the item's channel no longer takes imported items")
    published = payload.get("published")
    item = FeedItem(
        source_id=str(payload["source_id"]),
        title=str(payload["title"]),
        text=str(payload.get("text") or ""),
        url=str(payload.get("url") or ""),
        published=datetime.fromisoformat(published) if published else None,
    )
    import_items(channel, [item])


def has_feeds(_config: ConnectorConfig) -> bool:
    return bool(feed_channel_ids())


SPEC = ConnectorSpec(
    name=NAME,
    title="政府网站/信息公开",
    handle=handle,
    pull=pull,
    pull_every_seconds=900,
    is_configured=has_feeds,
)
