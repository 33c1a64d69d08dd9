"""Outbound pulls against a real loopback HTTP fake: a cursor, a fake that fails 3 times
then recovers, nothing lost, nothing twice (docs/integrations.md#outbound)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.integrations import actions, registry, tasks
from api.integrations.errors import PermanentError
from api.integrations.models import Connector, ReceivedRecord
from api.integrations.testing import configure, process_all, run_fake
from cityfakes.server import Request
from cityfakes.signing import verify

pytestmark = pytest.mark.django_db
SECRET = "pull-secret"


class FlakyFeed:
    """GET /items?after=<cursor> → {"items": [...], "cursor": "<last id>", "more": bool},
    two items a page, 5 items in all; answers 503 to the first ``failures`` requests and
    401 to an unsigned one."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[str] = []
        self.items = [{"id": f"I-{n}", "n": n} for n in range(1, 6)]

    def __call__(self, req: Request):
        self.requests.append(req.query.get("after", ""))
        if verify(SECRET, req.body, req.headers):
            return 401, {"error": "unsigned"}
        if self.failures > 0:
            self.failures -= 1
            return 503, {"error": "busy"}
        after = int(req.query.get("after") or 0)
        page = [item for item in self.items if item["n"] > after][:2]
        cursor = str(page[-1]["n"]) if page else str(after)
        return 200, {"items": page, "cursor": cursor, "more": page[-1]["n"] < 5 if page else False}


def pull_feed(ctx: registry.PullContext) -> registry.PullResult:
    body = ctx.http.get_json("/items", {"after": ctx.cursor})
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise PermanentError("the feed's answer has no items")
    return registry.PullResult(
        [(item["id"], item) for item in body["items"]], body["cursor"], body["more"]
    )


@pytest.fixture
def feed_connector(monkeypatch):
    applied: dict[str, int] = {}

    def handle(source_id: str, payload: dict) -> None:
        applied[source_id] = applied.get(source_id, 0) + 1

    registry.register(
        registry.ConnectorSpec(
            name="feed", title="测试接口", handle=handle, pull=pull_feed, pull_every_seconds=60
        )
    )
    yield applied
    registry.unregister("feed")


def test_a_feed_failing_three_times_then_recovering_loses_nothing(feed_connector, monkeypatch):
    fake = FlakyFeed(failures=3)
    with run_fake(lambda: fake) as url:
        configure(monkeypatch, "feed", url, SECRET)
        for expected_errors in (1, 2, 3):
            assert actions.pull("feed") == 0
            row = Connector.objects.get(name="feed")
            assert (row.error_count, row.cursor) == (expected_errors, "")
            assert "HTTP 503" in row.last_error
        assert actions.pull("feed") == 5  # three pages in one turn
        row = Connector.objects.get(name="feed")
        assert (row.error_count, row.cursor, row.last_error) == (0, "5", "")
        assert row.last_success_at is not None
        assert actions.pull("feed") == 0  # from the cursor: nothing new
    assert fake.requests == ["", "", "", "", "2", "4", "5"]
    assert process_all() == 5
    assert feed_connector == {f"I-{n}": 1 for n in range(1, 6)}
    assert ReceivedRecord.objects.filter(connector="feed").count() == 5


def test_pull_due_claims_each_turn_once(feed_connector, monkeypatch):
    fake = FlakyFeed(failures=0)
    with run_fake(lambda: fake) as url:
        configure(monkeypatch, "feed", url, SECRET)
        assert tasks.pull_due() == 5
        assert tasks.pull_due() == 0  # run twice: the turn is taken, not due again
        assert len(fake.requests) == 3
        Connector.objects.filter(name="feed").update(
            next_pull_at=timezone.now() - timedelta(seconds=1)
        )
        assert tasks.pull_due() == 0
        assert len(fake.requests) == 4  # due again: one request from the cursor


def test_a_connection_refused_is_transient_and_counted(feed_connector, monkeypatch):
    with run_fake(lambda: FlakyFeed(0)) as url:
        pass  # stopped: its port now refuses connections
    configure(monkeypatch, "feed", url, SECRET)
    assert actions.pull("feed") == 0
    row = Connector.objects.get(name="feed")
    assert row.error_count == 1
    assert "connection failed" in row.last_error
    assert SECRET not in row.last_error


def test_an_unconfigured_connector_is_not_pulled(feed_connector, monkeypatch):
    monkeypatch.delenv("GOVDESK_INTEGRATION_FEED_URL", raising=False)
    assert tasks.pull_due() == 0
    assert not Connector.objects.filter(name="feed").exists()
