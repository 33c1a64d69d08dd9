"""The import connector's domain part: items of the government website /
information-disclosure platform's feed into a read-only channel. The schedule, retries
and health are the connector layer's (api/integrations/govsite, docs/integrations.md).
Docs: docs/publishing.md#import-connector.

The feed is RSS 2.0 (``<item>`` with ``guid`` or ``link``, ``title``, ``description``,
``pubDate``) or JSON (``{"items": [{"id", "title", "content" | "summary", "url",
"published"}]}``). Every item becomes a published post of the channel, for the
channel's ``feed_audience`` (the whole city by default), de-duplicated by source id:
an item seen before is skipped (the unique constraint on (channel, source_id) settles
a race between two runs). Safe to run twice.
"""

from __future__ import annotations

import html
import json
import re
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api.accounts.models import Unit
from api.audit.recorder import record
from api.common.search import search_document
from api.publishing.actions.posts import set_audience_keys, summary_of
from api.publishing.models import Channel, FeedFormat, Post, PostState

MAX_FEED_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 20
MAX_ITEMS = 500
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class FeedItem:
    source_id: str
    title: str
    text: str
    url: str
    published: datetime | None


def _plain(markup: str) -> str:
    return html.unescape(_TAGS.sub("\n", markup or "")).strip()


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_rss(data: bytes) -> list[FeedItem]:
    root = ET.fromstring(data)  # noqa: S314
    items = []
    for item in root.iter("item"):
        link = (item.findtext("link") or "").strip()
        source_id = (item.findtext("guid") or link).strip()
        title = _plain(item.findtext("title") or "")
        if not source_id or not title:
            continue
        items.append(
            FeedItem(
                source_id[:200],
                title[:200],
                _plain(item.findtext("description") or ""),
                link[:500],
                _when(item.findtext("pubDate")),
            )
        )
    return items


def parse_json(data: bytes) -> list[FeedItem]:
    payload = json.loads(data.decode("utf-8"))
    raw = payload.get("items", []) if isinstance(payload, dict) else payload
    items = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        source_id = str(entry.get("id") or entry.get("url") or "").strip()
        title = _plain(str(entry.get("title") or ""))
        if not source_id or not title:
            continue
        text = _plain(str(entry.get("content") or entry.get("summary") or ""))
        items.append(
            FeedItem(
                source_id[:200],
                title[:200],
                text,
                str(entry.get("url") or "")[:500],
                _when(entry.get("published")),
            )
        )
    return items


def fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "GovDesk feed import"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        data = response.read(MAX_FEED_BYTES + 1)
    if len(data) > MAX_FEED_BYTES:
        raise ValueError("feed larger than the limit")
    return data


def _author_unit(channel: Channel) -> Unit:
    if channel.unit_id:
        return channel.unit  # type: ignore[return-value]
    return Unit.objects.filter(parent__isnull=True).order_by("id").first()  # type: ignore[return-value]


def import_items(channel: Channel, items: list[FeedItem]) -> int:
    """Store the items not seen before; returns how many were new (audited when any)."""
    seen = set(
        Post.objects.filter(
            channel=channel, source_id__in=[i.source_id for i in items]
        ).values_list("source_id", flat=True)
    )
    unit = _author_unit(channel)
    audience = channel.feed_audience or {"kind": "city"}
    created = 0
    now = timezone.now()
    for item in items[:MAX_ITEMS]:
        if item.source_id in seen:
            continue
        seen.add(item.source_id)
        body = [{"level": 0, "text": p.strip()} for p in item.text.split("\n") if p.strip()]
        post = Post(
            channel=channel,
            title=item.title,
            body=body,
            summary=summary_of(body),
            author_unit=unit,
            state=PostState.PUBLISHED,
            audience=audience,
            published_at=item.published or now,
            source_id=item.source_id,
            source_url=item.url,
            search_text=search_document(item.title, item.text),
            created_at=now,
            updated_at=now,
        )
        try:
            with transaction.atomic():
                post.save()
                set_audience_keys(post)
        except IntegrityError:  # another run stored it first
            continue
        created += 1
    if created:
        record(
            "channel.imported",
            actor_username="system",
            obj=channel,
            unit_id=channel.unit_id,
            detail={"items": len(items), "created": created},
        )
    return created


def parse_feed(channel: Channel, data: bytes) -> list[FeedItem]:
    parser = parse_json if channel.feed_format == FeedFormat.JSON else parse_rss
    return parser(data)


def note_import_failure(channel: Channel, error: Exception) -> None:
    """A fetch or parse failure: noted on the channel (its editors see it) and audited."""
    note = f"{type(error).__name__}: {error}"[:300]
    Channel.objects.filter(pk=channel.pk).update(last_import_note=note)
    record(
        "channel.import_failed",
        actor_username="system",
        obj=channel,
        result="failed",
        detail={"error": note},
    )


def note_import(channel: Channel, items: int, created: int | None = None) -> None:
    note = f"{items} items" + (f", {created} new" if created is not None else "")
    Channel.objects.filter(pk=channel.pk).update(
        last_import_at=timezone.now(), last_import_note=note
    )


def import_channel(channel_id: int) -> int:
    """Fetch and import one channel's feed now, outside the connector layer's schedule
    (api/integrations/govsite pulls every feed channel on its own). Returns the number
    of new posts; a fetch or parse failure is noted on the channel and audited, never
    raised."""
    channel = Channel.objects.select_related("unit").get(pk=channel_id)
    if not channel.feed_url or not channel.is_active:
        return 0
    try:
        items = parse_feed(channel, fetch(channel.feed_url))
    except (OSError, ValueError, ET.ParseError) as error:
        note_import_failure(channel, error)
        return 0
    created = import_items(channel, items)
    note_import(channel, len(items), created)
    return created


def feed_channel_ids() -> list[int]:
    return list(
        Channel.objects.filter(is_active=True, read_only=True)
        .exclude(feed_url="")
        .values_list("pk", flat=True)
    )
