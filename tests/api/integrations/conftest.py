"""Fixtures for the connector layer's tests (docs/integrations.md): a sample connector
registered for the test only, whose handler fails on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from api.integrations import registry
from api.integrations.errors import PermanentError, TransientError
from api.integrations.testing import configure

SECRET = "test-secret-\u4e00-not-for-production"


@dataclass
class Sample:
    """The handler's behaviour and what it applied (a dict: handling one source id twice
    would show as a count of 2)."""

    transient_failures: int = 0
    permanent: bool = False
    crash: bool = False
    calls: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    def handle(self, source_id: str, payload: dict) -> None:
        self.calls += 1
        if self.permanent:
            raise PermanentError("the sample system sent a record we cannot apply")
        if self.crash:
            raise ValueError("a bug")
        if self.transient_failures > 0:
            self.transient_failures -= 1
            raise TransientError("the sample system is busy")
        self.applied[source_id] = self.applied.get(source_id, 0) + 1


@pytest.fixture
def sample(monkeypatch):
    behaviour = Sample()
    registry.register(
        registry.ConnectorSpec(
            name="sample",
            title="样例系统",
            handle=behaviour.handle,
            source_id_of=lambda event: event["id"],
        )
    )
    configure(monkeypatch, "sample", "http://127.0.0.1:9/", SECRET)
    yield behaviour
    registry.unregister("sample")
