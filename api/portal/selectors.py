"""What a person's home shows (门户), in a fixed number of queries. Docs: docs/portal.md.

Blocks: ``todo`` (to-do and overdue counts, the three most urgent tasks), ``must_read``
(unread must-read notices), ``news`` (the latest posts of the followed channels — one
query of per-channel id subqueries whatever the number of channels), ``dashboard``
(leaders and supervisors: overdue documents by unit, supervision lights, this month's
unit scores, from the existing stats and supervision selectors; the city management
figures from api.integrations.citymgmt, docs/integrations.md#city-management). Every block reads
lower layers' selectors; nothing here writes.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Window
from django.utils import timezone

from api.accounts.models import User
from api.common.datetimes import client_datetime
from api.integrations.citymgmt.selectors import dashboard_figures as city_management
from api.portal.models import PortalPreference
from api.publishing import selectors as publishing
from api.publishing.audience import reader_keys
from api.publishing.models import Channel, Post
from api.stats import compute
from api.stats.access import StatsScope, scope_of
from api.supervision.models import ItemState
from api.supervision.selectors import visible_items
from api.workdays.deadlines import TZ
from api.workflow.selectors import todo_tasks

BLOCKS = ("todo", "must_read", "news", "dashboard")
MAX_CHANNELS = 8
DEFAULT_CHANNELS = 5
POSTS_PER_CHANNEL = 5
MAX_PINNED = 10
URGENT_TASKS = 3
MUST_READ_ITEMS = 5
DASHBOARD_UNITS = 5


def preference_of(user: User) -> PortalPreference:
    found = PortalPreference.objects.filter(user=user).first()
    return found or PortalPreference(user=user, blocks=list(BLOCKS), channel_ids=[])


def default_channel_ids(user: User) -> list[int]:
    unit = publishing.author_unit_of(user)
    return list(
        Channel.objects.filter(Q(unit__isnull=True) | Q(unit=unit), is_active=True)
        .order_by("unit_id", "sort_order", "id")
        .values_list("pk", flat=True)[:DEFAULT_CHANNELS]
    )


def todo_block(user: User, now: datetime) -> dict[str, Any]:
    """The badge counts and the three most urgent tasks in one query: the counts are
    window aggregates over all the person's open tasks, computed before the LIMIT."""
    every = Window(Count("id"))
    rows = list(
        todo_tasks(user)
        .annotate(
            n_todo=every,
            n_overdue=Window(Count("id", filter=Q(due_at__lt=now))),
            n_unread=Window(Count("id", filter=Q(read_at__isnull=True))),
        )
        # Only the columns the block shows: whole task rows with their five joined
        # tables cost more to build than the query takes (docs/performance.md).
        .values(
            "id",
            "step_name",
            "due_at",
            "document__title",
            "document__urgency",
            "n_todo",
            "n_overdue",
            "n_unread",
        )[:URGENT_TASKS]
    )
    first = rows[0] if rows else {}
    urgent = [
        {
            "id": row["id"],
            "title": row["document__title"],
            "step": row["step_name"],
            "urgency": row["document__urgency"],
            "due_at": client_datetime(row["due_at"]),
            "overdue": bool(row["due_at"] and row["due_at"] < now),
        }
        for row in rows
    ]
    return {
        "todo": int(first.get("n_todo") or 0),
        "overdue": int(first.get("n_overdue") or 0),
        "unread": int(first.get("n_unread") or 0),
        "urgent": urgent,
    }


def must_read_block(user: User) -> dict[str, Any]:
    """The unread must-read notices: the first few and their count in one query."""
    items = list(
        publishing.unread_must_reads(user)
        .annotate(n_unread=Window(Count("id")))
        .values("id", "title", "author_unit__name", "published_at", "read_deadline", "n_unread")[
            :MUST_READ_ITEMS
        ]
    )
    return {
        "count": int(items[0]["n_unread"]) if items else 0,
        "items": [
            {
                "id": p["id"],
                "title": p["title"],
                "unit": p["author_unit__name"],
                "published_at": client_datetime(p["published_at"]),
                "read_deadline": client_datetime(p["read_deadline"]),
            }
            for p in items
        ],
    }


def _news_posts(user: User, channel_ids: list[int]) -> list[dict[str, Any]]:
    """The news block without the person's read flags (the part shared by everyone
    with the same audience keys)."""
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=channel_ids, is_active=True)}
    ordered = [channels[i] for i in channel_ids if i in channels]
    if not ordered:
        return []
    visible = publishing.published_for(user, include_ended=False)
    # One query whatever the number of channels: the newest few of each channel (each
    # an index walk on (channel, published_at)) and the pinned ones, as id subqueries
    # (a UNION ALL where the database allows LIMIT in its branches, else OR-ed IN lists).
    branches = [
        visible.filter(channel_id__in=[c.pk for c in ordered], pinned=True)
        .order_by("-published_at", "-id")
        .values("pk")[:MAX_PINNED]
    ] + [
        visible.filter(channel_id=c.pk)
        .order_by("-published_at", "-id")
        .values("pk")[:POSTS_PER_CHANNEL]
        for c in ordered
    ]
    if connection.features.supports_slicing_ordering_in_compound:
        wanted = Q(pk__in=branches[0].union(*branches[1:], all=True))
    else:
        wanted = Q()
        for branch in branches:
            wanted |= Q(pk__in=branch)
    rows = list(
        Post.objects.filter(wanted)
        .only("id", "channel_id", "title", "published_at", "pinned", "must_read")
        .order_by("-pinned", "-published_at", "-id")
    )
    by_channel: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in ordered}
    for post in rows:
        if len(by_channel[post.channel_id]) >= POSTS_PER_CHANNEL:
            continue
        by_channel[post.channel_id].append(
            {
                "id": post.pk,
                "title": post.title,
                "published_at": client_datetime(post.published_at),
                "pinned": post.pinned,
                "must_read": post.must_read,
            }
        )
    return [{"channel": {"id": c.pk, "name": c.name}, "posts": by_channel[c.pk]} for c in ordered]


NEWS_GENERATION_KEY = "portal:news:generation"


def bump_news_generation() -> None:
    """Start new news cache entries (after a post or channel changed; api/portal/apps.py)."""
    try:
        cache.incr(NEWS_GENERATION_KEY)
    except ValueError:
        cache.set(NEWS_GENERATION_KEY, 1, None)


def news_block(user: User, channel_ids: list[int]) -> list[dict[str, Any]]:
    """The followed channels' latest posts, with the person's read flags. The posts part
    depends only on the audience keys and channels: cached for
    ``GOVDESK_PORTAL_NEWS_SECONDS`` under the news generation, which every post or
    channel save moves on (docs/portal.md#caching)."""
    seconds = settings.GOVDESK_PORTAL_NEWS_SECONDS
    channels: list[dict[str, Any]] | None = None
    key = ""
    if seconds > 0:
        generation = cache.get(NEWS_GENERATION_KEY) or 0
        keys = ",".join(sorted(reader_keys(user)))
        wanted = ",".join(str(i) for i in channel_ids)
        digest = hashlib.sha256(f"{keys}|{wanted}".encode()).hexdigest()[:32]
        key = f"portal:news:v1:{generation}:{digest}"
        channels = cache.get(key)
    if channels is None:
        channels = _news_posts(user, channel_ids)
        if seconds > 0:
            cache.set(key, channels, seconds)
    read = publishing.read_post_ids(user, [p["id"] for c in channels for p in c["posts"]])
    return [
        {
            "channel": c["channel"],
            "posts": [{**p, "read": p["id"] in read} for p in c["posts"]],
        }
        for c in channels
    ]


def _this_month(now: datetime) -> compute.Period:
    today = timezone.localtime(now, TZ).date()
    return compute.Period(date(today.year, today.month, 1), today)


def dashboard_cache_key(scope: StatsScope, period: compute.Period) -> str:
    """The cache key of a scope's dashboard figures: the scope's supervised roots and
    led units, and the period (so a new day starts a new entry)."""
    roots = ",".join(str(u.pk) for u in sorted(scope.supervised, key=lambda u: u.pk))
    led = ",".join(str(i) for i in sorted(scope.led_unit_ids))
    return f"portal:dashboard:v2:{roots}:{led}:{period.first.isoformat()}:{period.last.isoformat()}"


def _dashboard_figures(scope: StatsScope, now: datetime) -> dict[str, Any]:
    """The scope's part of the dashboard (overdue by unit, this month's scores) from the
    stats aggregation; the same for everyone with this scope, so it is cached for
    ``GOVDESK_PORTAL_DASHBOARD_SECONDS`` (invalidated by time only; docs/portal.md)."""
    period = _this_month(now)
    key = dashboard_cache_key(scope, period)
    seconds = settings.GOVDESK_PORTAL_DASHBOARD_SECONDS
    if seconds > 0:
        cached = cache.get(key)
        if cached is not None:
            return cast(dict[str, Any], cached)
    units = list(scope.units().only("id", "name", "path"))
    weights = compute.Weights.from_settings()
    restrict = compute.unit_filter(units) if len(units) <= 1000 else None
    figures = compute.figures_by("stat_unit", period, now=now, weights=weights, restrict=restrict)
    names = {u.pk: u.name for u in units}
    rows = [(uid, f) for uid, f in figures.items() if uid in names]
    overdue = sorted(
        (r for r in rows if r[1].open_overdue), key=lambda r: (-r[1].open_overdue, r[0])
    )
    # Documents past their overall time limit (限时办结, docs/workflow.md), per their unit.
    documents = compute.document_figures(list(names), period, now=now)
    late_documents = sorted(
        ((uid, d["open_overdue"]) for uid, d in documents.items() if d["open_overdue"]),
        key=lambda r: (-r[1], r[0]),
    )
    scored = [(uid, compute.score(f, weights)) for uid, f in rows]
    scored = sorted((s for s in scored if s[1] is not None), key=lambda s: (-s[1], s[0]))  # type: ignore[operator]
    block = {
        "period": period.query(),
        "units": len(units),
        "overdue_by_unit": [
            {"unit": {"id": uid, "name": names[uid]}, "overdue": f.open_overdue}
            for uid, f in overdue[:DASHBOARD_UNITS]
        ],
        "overdue_documents_by_unit": [
            {"unit": {"id": uid, "name": names[uid]}, "overdue": n}
            for uid, n in late_documents[:DASHBOARD_UNITS]
        ],
        "scores": {
            "top": [
                {"unit": {"id": uid, "name": names[uid]}, "score": s}
                for uid, s in scored[:DASHBOARD_UNITS]
            ],
            "bottom": [
                {"unit": {"id": uid, "name": names[uid]}, "score": s}
                for uid, s in scored[-DASHBOARD_UNITS:][::-1]
            ]
            if len(scored) > DASHBOARD_UNITS
            else [],
        },
    }
    if seconds > 0:
        cache.set(key, block, seconds)
    return block


def dashboard_block(user: User, now: datetime) -> dict[str, Any] | None:
    """For leaders and supervisors (the stats scope); None for everyone else. The
    supervision lights follow the person's own view and are read on every request."""
    scope = scope_of(user)
    if scope is None:
        return None
    figures = _dashboard_figures(scope, now)
    lights = {"green": 0, "yellow": 0, "red": 0}
    for row in (
        visible_items(user).filter(state=ItemState.OPEN).values("light").annotate(n=Count("id"))
    ):
        lights[row["light"]] = row["n"]
    return {
        "period": figures["period"],
        "units": figures["units"],
        "overdue_by_unit": figures["overdue_by_unit"],
        "overdue_documents_by_unit": figures.get("overdue_documents_by_unit", []),
        "supervision_lights": lights,
        "scores": figures["scores"],
        # City-wide, one entry for every scope, cached like the figures above.
        "city_management": city_management(now),
    }


LAYOUT_KEY = "portal:layout:v1:{user_id}"


def forget_layout(user_id: int) -> None:
    """Drop a person's cached blocks and channels (after they saved new ones)."""
    cache.delete(LAYOUT_KEY.format(user_id=user_id))


def layout_of(user: User) -> tuple[list[str], list[int]]:
    """The person's blocks and channels (their choice, or the defaults). Cached with the
    news generation it was read under, so a new or changed channel is seen at once; a
    saved choice drops the entry (api/portal/actions.py). One cache round trip when
    warm instead of two queries (docs/portal.md#caching)."""
    seconds = settings.GOVDESK_PORTAL_NEWS_SECONDS
    key = LAYOUT_KEY.format(user_id=user.pk)
    generation = 0
    if seconds > 0:
        found = cache.get_many([NEWS_GENERATION_KEY, key])
        generation = found.get(NEWS_GENERATION_KEY) or 0
        cached = found.get(key)
        if cached is not None and cached[0] == generation:
            return list(cached[1]), list(cached[2])
    preference = preference_of(user)
    blocks = [b for b in (preference.blocks or list(BLOCKS)) if b in BLOCKS]
    channel_ids = list(preference.channel_ids or default_channel_ids(user))
    if seconds > 0:
        cache.set(key, (generation, blocks, channel_ids), seconds)
    return blocks, channel_ids


def home(user: User) -> dict[str, Any]:
    now = timezone.now()
    blocks, channel_ids = layout_of(user)
    response: dict[str, Any] = {
        "user": {
            "id": user.pk,
            "display_name": user.display_name,
            "unit": {"id": user.unit_id, "name": user.unit.name},
        },
        "blocks": blocks,
    }
    if "todo" in blocks:
        response["todo"] = todo_block(user, now)
    if "must_read" in blocks:
        response["must_read"] = must_read_block(user)
    if "news" in blocks:
        response["news"] = news_block(user, channel_ids)
    if "dashboard" in blocks:
        response["dashboard"] = dashboard_block(user, now)
    return response
