"""The portal (门户): one response with every block, a query budget that does not grow
with tasks, posts or channels, personalisation, ETag/304 and gzip. Docs: docs/portal.md."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.publishing.models import Channel
from api.supervision.models import SupervisedItem
from tests.api.publishing.conftest import publish
from tests.api.stats.conftest import add_task, make_instance
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def _tasks(org, user, drafter, n: int) -> None:
    now = timezone.now()
    instance = make_instance(org, drafter)
    for i in range(n):
        due = now + timedelta(hours=i - 2, minutes=30)  # the first two are overdue
        add_task(instance, "review", "open", "", now - timedelta(days=1), None, due, None, user)


def _home(client, **headers):
    response = client.get("/api/v1/portal/", **headers)
    assert response.status_code in (200, 304), response.content
    return response


def test_home_has_every_block(world, org, personas):
    leo = personas["leo"]  # leader of the office: gets the dashboard
    _tasks(org, leo, personas["bob"], 5)
    must = publish(
        world,
        {"kind": "units", "unit_ids": [org.office.pk]},
        must_read=True,
        title="必读：公文处理规范",
    )
    news = publish(world, {"kind": "city"}, title="工作动态一则")
    SupervisedItem.objects.create(
        title="督办事项",
        source="manual",
        owner_unit=org.office,
        created_by=personas["sam"],
        deadline=timezone.now() + timedelta(days=5),
        light="yellow",
    )
    home = _home(client_for(leo)).json()
    assert home["blocks"] == ["todo", "must_read", "news", "dashboard"]
    assert home["todo"]["todo"] == 5 and home["todo"]["overdue"] == 2
    assert len(home["todo"]["urgent"]) == 3 and home["todo"]["urgent"][0]["overdue"]
    assert [i["id"] for i in home["must_read"]["items"]] == [must]
    channel = home["news"][0]
    assert channel["channel"]["id"] == world.channel.pk
    assert {p["id"] for p in channel["posts"]} == {must, news}
    dashboard = home["dashboard"]
    assert dashboard["supervision_lights"] == {"green": 0, "yellow": 1, "red": 0}
    assert dashboard["overdue_by_unit"][0]["unit"]["id"] == org.office.pk
    assert dashboard["overdue_by_unit"][0]["overdue"] == 2
    # Staff without a stats scope get no dashboard; reading the must-read clears it.
    bob = client_for(personas["bob"])
    assert _home(bob).json()["dashboard"] is None
    bob.post(f"/api/v1/posts/{must}/read/", {}, format="json")
    assert _home(bob).json()["must_read"] == {"count": 0, "items": []}


def _count(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        _home(client)
    return len(captured.captured_queries)


def test_query_budget_is_constant(world, org, personas, django_assert_max_num_queries):
    leo = personas["leo"]
    client = client_for(leo)
    _tasks(org, leo, personas["bob"], 1)
    publish(world, {"kind": "city"})
    few = _count(client)
    _tasks(org, leo, personas["bob"], 20)
    channels = [Channel.objects.create(name=f"栏目{i}", code=f"c{i}") for i in range(6)]
    for i in range(10):
        world.channel = channels[i % 6]
        publish(world, {"kind": "city"}, title=f"动态{i}", must_read=i % 2 == 0)
    client.put(
        "/api/v1/portal/preferences/",
        {
            "blocks": ["todo", "must_read", "news", "dashboard"],
            "channel_ids": [c.pk for c in channels],
        },
        format="json",
    )
    many = _count(client)
    assert many <= few + 1  # the saved preference row replaces the default channel query
    with django_assert_max_num_queries(20):
        _home(client)


def test_personalisation(world, org, personas):
    other = Channel.objects.create(name="领导讲话", code="speeches")
    publish(world, {"kind": "city"}, title="通知一")
    client = client_for(personas["bob"])
    saved = client.put(
        "/api/v1/portal/preferences/",
        {"blocks": ["news", "todo"], "channel_ids": [other.pk, world.channel.pk]},
        format="json",
    )
    assert saved.status_code == 200
    home = _home(client).json()
    assert home["blocks"] == ["news", "todo"]
    assert "must_read" not in home and "dashboard" not in home
    assert [c["channel"]["id"] for c in home["news"]] == [other.pk, world.channel.pk]
    for bad in (
        {"blocks": ["weather"], "channel_ids": []},
        {"blocks": ["news", "news"], "channel_ids": []},
        {"blocks": [], "channel_ids": [999999]},
        {"blocks": [], "channel_ids": [2**70, -1]},  # no column holds these: 400, not 500
        {"blocks": []},
    ):
        assert client.put("/api/v1/portal/preferences/", bad, format="json").status_code == 400


def test_etag_304_and_gzip(world, personas):
    publish(world, {"kind": "city"}, title="通知二")
    client = client_for(personas["bob"])
    first = _home(client, HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip"
    assert len(first.content) < 6 * 1024
    assert gzip.decompress(first.content)
    tag = first["ETag"]
    again = _home(client, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b""
    publish(world, {"kind": "city"}, title="通知三")
    assert _home(client, HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_dashboard_figures_are_cached_per_scope(world, org, personas, settings):
    """A leader's dashboard figures come from the cache for a short time (fewer queries,
    the overdue count lags a new task until the entry expires); the supervision lights
    are read on every request."""
    from django.core.cache import cache

    from api.portal import selectors
    from api.stats.access import scope_of
    from api.stats.compute import Period

    settings.GOVDESK_PORTAL_DASHBOARD_SECONDS = 60
    leo = personas["leo"]
    today = timezone.localtime(timezone.now(), selectors.TZ).date()
    key = selectors.dashboard_cache_key(scope_of(leo), Period(today.replace(day=1), today))
    cache.delete(key)
    _tasks(org, leo, personas["bob"], 3)  # two overdue
    client = client_for(leo)
    computed = _count(client)
    first = _home(client).json()["dashboard"]
    assert first["overdue_by_unit"][0]["overdue"] == 2
    assert _count(client) < computed
    _tasks(org, leo, personas["bob"], 3)  # two more overdue: not seen while cached
    SupervisedItem.objects.create(
        title="督办事项",
        source="manual",
        owner_unit=org.office,
        created_by=personas["sam"],
        deadline=timezone.now() + timedelta(days=5),
        light="red",
    )
    cached = _home(client).json()["dashboard"]
    assert cached["overdue_by_unit"] == first["overdue_by_unit"]
    assert cached["supervision_lights"]["red"] == 1
    cache.delete(key)
    fresh = _home(client).json()["dashboard"]
    assert fresh["overdue_by_unit"][0]["overdue"] == 4


def test_news_cache_follows_post_changes(
    world, personas, settings, django_capture_on_commit_callbacks
):
    """With the news cache on, a cached home saves the news queries, and publishing a
    post (after its commit) moves the generation on, so the next home shows it; the read
    flags stay the person's own."""
    settings.GOVDESK_PORTAL_NEWS_SECONDS = 30
    with django_capture_on_commit_callbacks(execute=True):
        first = publish(world, {"kind": "city"}, title="通知甲")
    client = client_for(personas["bob"])
    computed = _count(client)
    assert _count(client) < computed
    posts = _home(client).json()["news"][0]["posts"]
    assert [p["id"] for p in posts] == [first] and not posts[0]["read"]
    client.post(f"/api/v1/posts/{first}/read/", {}, format="json")
    assert _home(client).json()["news"][0]["posts"][0]["read"]
    with django_capture_on_commit_callbacks(execute=True):
        second = publish(world, {"kind": "city"}, title="通知乙")
    assert {p["id"] for p in _home(client).json()["news"][0]["posts"]} == {first, second}
    # Someone outside the audience shares no entry with bob (the key is the audience).
    with django_capture_on_commit_callbacks(execute=True):
        only_office = publish(world, {"kind": "units", "unit_ids": [personas["bob"].unit_id]})
    assert only_office in {p["id"] for p in _home(client).json()["news"][0]["posts"]}
    tom = client_for(world.township_reader)
    assert only_office not in {p["id"] for p in _home(tom).json()["news"][0]["posts"]}


def test_counts_come_with_the_urgent_tasks(world, org, personas):
    """The to-do counts are window aggregates over every open task, not over the three
    urgent ones shown; the must-read count likewise covers more than the items shown."""
    leo = personas["leo"]
    _tasks(org, leo, personas["bob"], 7)
    for i in range(7):
        publish(world, {"kind": "city"}, title=f"必读{i}", must_read=True)
    home = _home(client_for(leo)).json()
    assert home["todo"]["todo"] == 7 and home["todo"]["overdue"] == 2
    assert home["todo"]["unread"] == 7 and len(home["todo"]["urgent"]) == 3
    assert home["must_read"]["count"] == 7 and len(home["must_read"]["items"]) == 5
    empty = _home(client_for(personas["charlie"])).json()
    assert (empty["todo"]["todo"], empty["todo"]["overdue"], empty["todo"]["urgent"]) == (0, 0, [])


def test_warm_home_reads_its_layout_from_the_cache(
    world, personas, settings, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """With the caches on, a warm home makes no query for the person's blocks and
    channels; a saved choice and a new channel are both seen on the very next home."""
    settings.GOVDESK_PORTAL_NEWS_SECONDS = 30
    with django_capture_on_commit_callbacks(execute=True):
        publish(world, {"kind": "city"}, title="通知甲")
    client = client_for(personas["bob"])
    cold = _count(client)
    with django_assert_max_num_queries(cold - 3):  # preference, channels, news posts
        _home(client)
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.put(
            "/api/v1/portal/preferences/",
            {"blocks": ["news"], "channel_ids": [world.channel.pk]},
            format="json",
        )
    assert saved.status_code == 200
    assert _home(client).json()["blocks"] == ["news"]
    with django_capture_on_commit_callbacks(execute=True):
        client.put("/api/v1/portal/preferences/", {"blocks": [], "channel_ids": []}, format="json")
        extra = Channel.objects.create(name="新栏目", code="fresh")
    channels = [c["channel"]["id"] for c in _home(client).json()["news"]]
    assert extra.pk in channels
