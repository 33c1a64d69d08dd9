"""ETag / If-None-Match → 304 and gzip on an existing list (docs/mobile-api.md#etag-and-304)."""

from __future__ import annotations

import gzip
import json

import pytest

from api.common.conditional import body_etag
from tests.personas import client_for

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units/"


def test_list_carries_weak_etag_and_matching_if_none_match_is_304(personas):
    client = client_for(personas["bob"])
    first = client.get(UNITS)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag == body_etag(first.content)
    assert etag.startswith('W/"')
    assert "private" in first["Cache-Control"]
    assert "Authorization" in first["Vary"]

    again = client.get(UNITS, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag

    # A stale tag gets the full body.
    stale = client.get(UNITS, HTTP_IF_NONE_MATCH='W/"0000"')
    assert stale.status_code == 200 and stale.content == first.content


def test_change_to_the_data_changes_the_etag(personas, org):
    client = client_for(personas["bob"])
    etag = client.get(f"/api/v1/units/{org.office.pk}/")["ETag"]
    org.office.name = "改名后的办公室"
    org.office.save(update_fields=["name"])
    fresh = client.get(f"/api/v1/units/{org.office.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag


def test_no_etag_on_errors_or_posts(personas):
    client = client_for(personas["bob"])
    missing = client.get("/api/v1/units/999999/")
    assert missing.status_code == 404
    assert not missing.has_header("ETag")
    anonymous = client_for(None).get(UNITS)
    assert anonymous.status_code == 401
    assert not anonymous.has_header("ETag")


def test_list_is_gzipped_when_accepted_and_etag_survives(personas):
    client = client_for(personas["bob"])
    plain = client.get(UNITS)
    zipped = client.get(UNITS, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped.status_code == 200
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert json.loads(gzip.decompress(zipped.content)) == json.loads(plain.content)
    # The tag hashes the plain body, so a gzip client revalidates with it too.
    assert zipped["ETag"] == plain["ETag"]
    assert (
        client.get(UNITS, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=plain["ETag"]).status_code
        == 304
    )


def test_token_endpoint_is_never_gzipped(personas):
    """BREACH: the response carrying the access and refresh tokens stays uncompressed."""
    from tests.personas import PASSWORD

    response = client_for(None).post(
        "/api/v1/auth/token/",
        {"username": "bob", "password": PASSWORD},
        format="json",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert response.status_code == 200, response.content
    assert "access" in response.json()
    assert not response.has_header("Content-Encoding")
