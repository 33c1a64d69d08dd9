"""Property-based run over the OpenAPI schema (docs/security.md#schema-fuzzing).

Every operation is called with generated valid and invalid inputs, as an
authenticated city IT admin: no response may be a 5xx, and every documented
response must match its schema. Hypothesis examples per operation are kept small
so that `make test` stays fast; `SCHEMATHESIS_MAX_EXAMPLES` raises it locally.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from api.wsgi import application


def loopback_app(environ, start_response):
    """Werkzeug's test client sends no REMOTE_ADDR; the zone policy needs a peer."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return application(environ, start_response)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", loopback_app)

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))

# Each example gets a fresh session, so an example that logs out or revokes
# sessions does not turn the later ones into 401s.


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: the WSGI calls must not close the test's connection
    (request_finished would close it and lose the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def short_live_streams(settings):
    """The live channel (GET /api/v1/notifications/stream/) answers 200 and streams for
    GOVDESK_NOTIFY_STREAM_SECONDS (55 s) before it ends; the fuzzer reads each body to
    the end, so here a stream lives a second (its own tests: tests/api/notify/test_live.py)."""
    settings.GOVDESK_NOTIFY_STREAM_SECONDS = 1
    settings.GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS = 1


@pytest.fixture
def fuzz_admin(db):
    from tests.personas import Role, make_org, make_user

    org = make_org()
    return make_user("fuzz_admin", org.city, Role.CITY_IT_ADMIN, Role.SUPERVISOR, Role.UNIT_ADMIN)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_operations_never_fail_with_5xx(case, fuzz_admin):
    from api.accounts.tokens import issue_tokens, open_session

    pair = issue_tokens(fuzz_admin, open_session(fuzz_admin, device_name="fuzz"))
    case.call_and_validate(
        # Werkzeug's test client does not gunzip; gzip has its own tests (docs/mobile-api.md#gzip).
        headers={"Authorization": f"Bearer {pair.access}", "Accept-Encoding": "identity"},
        checks=[not_a_server_error, response_schema_conformance],
        excluded_checks=[negative_data_rejection],
    )
