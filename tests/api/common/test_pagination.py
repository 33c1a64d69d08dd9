"""Cursor pagination refuses forged cursors with a 404 envelope, never a 500."""

from __future__ import annotations

import base64

import pytest

from tests.personas import client_for


def forged(position: str) -> str:
    return base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("position", ["abc", "1%00", "9" * 40, "-1.5"])
def test_forged_cursor_position_is_404(personas, position):
    client = client_for(personas["ivy"])
    response = client.get("/api/v1/appointments/", {"cursor": forged(position)})
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_garbage_cursor_is_404(personas):
    client = client_for(personas["ivy"])
    response = client.get("/api/v1/appointments/", {"cursor": "!!not-base64!!"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
