"""Fixtures of the video connector's tests: the fake video platform on loopback, the
connector configured against it. Docs: docs/integrations.md#video-fake-and-tests."""

from __future__ import annotations

import pytest

from api.integrations.testing import configure
from cityfakes import video

SECRET = "video-connector-secret"


@pytest.fixture(scope="session")
def stream_platform(tmp_path_factory):
    """One platform with a real ffmpeg-encoded stream for the session (encoding once)."""
    return video.make_platform(SECRET, folder=tmp_path_factory.mktemp("video-stream"))


@pytest.fixture
def platform(stream_platform, monkeypatch):
    """A fresh platform (no cameras, a real clock) sharing the session's stream, served on
    a free port, with the connector configured against it (api.integrations.testing.configure)."""
    fresh = video.VideoPlatform(secret=SECRET, stream_dir=stream_platform.stream_dir)
    with video.serve(fresh) as base:
        configure(monkeypatch, "video", base, SECRET)
        fresh.base_url = base  # type: ignore[attr-defined]
        yield fresh
