"""Fixtures for the organisation tests (docs/organisation.md)."""

from __future__ import annotations

import pytest

from tests.personas import client_for


@pytest.fixture
def as_(personas):
    """``as_("alice")`` → an API client signed in as that persona (cached per test)."""
    clients: dict[str, object] = {}

    def get(name: str):
        if name not in clients:
            clients[name] = client_for(None if name == "anonymous" else personas[name])
        return clients[name]

    return get
