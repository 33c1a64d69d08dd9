"""Property-based run over the OpenAPI schema (docs/security.md#schema-fuzzing).

Every operation is called with generated valid and invalid inputs, as an
authenticated city IT admin, under every conformance check (``CHECKS``): no 5xx,
only documented status codes, content types and headers, every response matching
its schema, schema-violating input refused and schema-valid input not refused with
a status the schema cannot explain. Hypothesis examples per operation are kept small
so that `make test` stays fast; `SCHEMATHESIS_MAX_EXAMPLES` raises it locally.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.wsgi import application


def loopback_app(environ, start_response):
    """Werkzeug's test client sends no REMOTE_ADDR; the zone policy needs a peer."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return application(environ, start_response)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", loopback_app)
# The test signs every request in as the fuzz admin (below), so generated
# Authorization headers would only be overwritten: a "missing credentials" case would
# reach the server authenticated and read as accepted negative data. Authentication
# has its own tests (tests/api/accounts/identity, tests/security/test_authz_matrix.py).
schema.config.generation.update(with_security_parameters=False)
# Schema-valid input may still be refused for what a schema cannot say: a referenced
# id that does not exist (an invented unit_id is 400 "unit does not exist"), a rule
# across fields (`ends_at` after `starts_at`, `subtree` needs `unit`, a period of at
# most 400 days) or the persona's own state (422 totp_required_by_role). Those are the
# documented 400 validation_error and 422 refusals (docs/api.md#types-and-validation).
# An upload the schema calls "binary" may still not be an accepted file (a PNG sent to
# seal verification, a zip as a mail attachment): 415 attachment_type_refused /
# not_a_pdf. The check still fails any other refusal of valid input (405, 406, 413).
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "3xx", "400", "401", "403", "404", "409", "415", "422", "429"]
)
# A body over GOVDESK_MAX_BODY_BYTES (a long generated string) is refused before it is
# read: 413 payload_too_large is a rejection like 400 (added to the check's defaults;
# 5xx stays in them because not_a_server_error reports those on its own).
_negative = schema.config.checks.negative_data_rejection
schema.config.checks.negative_data_rejection = type(_negative)(
    expected_statuses=[*_negative.expected_statuses, "413"]
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]

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
        checks=CHECKS,
    )
