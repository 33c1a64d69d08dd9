"""Arbitrary JSON sent to a real document's endpoints never causes a 5xx and never
changes the document unless it is a valid edit (docs/documents.md#endpoints)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.documents.models import Document
from tests.api.documents.conftest import DRAFT

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "title",
        "doc_type",
        "urgency",
        "classification",
        "body",
        "main_recipients",
        "cc",
        "header_text",
        "expected_version",
        "direction",
        "unit",
    ]
)
bodies = st.dictionaries(FIELDS, json_values, max_size=4) | json_values


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(body=bodies)
def test_patch_and_create_never_fail_with_5xx(as_, draft_once, body):
    client = as_("bob")
    response = client.patch(f"/api/v1/documents/{draft_once}/", body, format="json")
    assert response.status_code < 500, response.content
    response = client.post("/api/v1/documents/", body, format="json")
    assert response.status_code < 500, response.content
    response = client.post(f"/api/v1/documents/{draft_once}/void-number/", body, format="json")
    assert response.status_code < 500, response.content


@pytest.fixture
def draft_once(personas):
    from api.documents import actions

    return actions.create_draft(personas["bob"], **DRAFT).pk


@pytest.mark.django_db
def test_surrogates_and_nul_are_refused(as_, draft_once):
    client = as_("bob")
    raw = '{"title": "a\\ud800b"}'
    response = client.patch(
        f"/api/v1/documents/{draft_once}/", raw, content_type="application/json"
    )
    assert response.status_code == 400
    raw = '{"body": [{"level": 0, "text": "\\ud800"}]}'
    response = client.patch(
        f"/api/v1/documents/{draft_once}/", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert Document.objects.get(pk=draft_once).version == 1
