"""Shared fixtures: personas and an API client. Docs: docs/testing.md."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

requires_postgres = pytest.mark.skipif(
    not settings.DATABASE_IS_POSTGRES,
    reason="needs PostgreSQL: set DATABASE_URL=postgres://… (as .ci/run does)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each selected test N times in a row (the flaky-test guard: "
        "`make test-repeat TEST=... N=...`, docs/testing.md#flaky-test-guard)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``--repeat N``: every selected test becomes N items, ``[repeat-1-of-N]`` …,
    each with its own fixtures (a fresh database, tmp_path, servers), run one after
    the other. A race that shows once in a while shows here; no item is retried."""
    count = metafunc.config.getoption("repeat")
    if count < 1:
        raise pytest.UsageError("--repeat needs N >= 1")
    if count > 1:
        metafunc.fixturenames.append("_repeat_run")
        metafunc.parametrize(
            "_repeat_run",
            range(1, count + 1),
            indirect=True,
            ids=[f"repeat-{i}-of-{count}" for i in range(1, count + 1)],
        )


@pytest.fixture
def _repeat_run(request: pytest.FixtureRequest) -> int:
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _fresh_cache_for_this_run() -> None:
    """The cache (Redis in CI) outlives the test database: Idempotency-Key answers,
    throttle counters and challenges of an earlier run must not leak into this one.
    The suite's Redis database is its own (.ci/run: db 14), so it is emptied once."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def org(db):
    from tests.personas import make_org

    return make_org()


@pytest.fixture
def personas(org):
    """alice: unit admin of the city office; bob: clerk there; charlie: staff of the
    bureau (must not see the office's things); ivy: city IT admin; sam: supervisor."""
    from tests.personas import Role, make_user

    return {
        "alice": make_user("alice", org.office, Role.UNIT_ADMIN, Role.STAFF),
        "bob": make_user("bob", org.office, Role.CLERK, Role.STAFF),
        "charlie": make_user("charlie", org.bureau, Role.STAFF),
        "dana": make_user("dana", org.district, Role.UNIT_ADMIN, Role.STAFF),
        "ivy": make_user("ivy", org.city, Role.CITY_IT_ADMIN),
        "sam": make_user("sam", org.city, Role.SUPERVISOR),
        "leo": make_user("leo", org.office, Role.LEADER, Role.STAFF),
    }
