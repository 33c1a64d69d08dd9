"""A connector's configuration from the environment and the one outbound client
(docs/integrations.md#secrets, #outbound). No database."""

from __future__ import annotations

import logging

import pytest

from api.integrations.config import load
from api.integrations.errors import PermanentError, TransientError
from api.integrations.http import client
from api.integrations.testing import run_fake
from cityfakes.server import Request
from cityfakes.signing import verify

SECRET = "s3cr3t-never-in-errors"


def test_a_secret_file_wins_and_the_secret_is_never_shown(monkeypatch, tmp_path, caplog):
    secret_file = tmp_path / "video.secret"
    secret_file.write_text("from-the-file\n")
    monkeypatch.setenv("GOVDESK_INTEGRATION_VIDEO_URL", "http://127.0.0.1:1/video")
    monkeypatch.setenv("GOVDESK_INTEGRATION_VIDEO_SECRET", "from-the-env")
    monkeypatch.setenv("GOVDESK_INTEGRATION_VIDEO_SECRET_FILE", str(secret_file))
    config = load("video")
    assert config.secret == "from-the-file" and config.configured
    assert "from-the-file" not in repr(config)
    monkeypatch.setenv("GOVDESK_INTEGRATION_VIDEO_SECRET_FILE", str(tmp_path / "missing"))
    with caplog.at_level(logging.ERROR):
        assert load("video").configured is False  # an unreadable file: off, and said so
    assert "secret file" in caplog.text and "from-the-env" not in caplog.text


def test_not_configured_without_url_or_secret(monkeypatch):
    monkeypatch.delenv("GOVDESK_INTEGRATION_NOPE_URL", raising=False)
    monkeypatch.setenv("GOVDESK_INTEGRATION_NOPE_SECRET", "s")
    assert load("nope").configured is False


@pytest.mark.parametrize(("raw", "seconds"), [("", 300), ("abc", 300), ("1", 10), ("600", 600)])
def test_pull_seconds(monkeypatch, raw, seconds):
    monkeypatch.setenv("GOVDESK_INTEGRATION_FEED_PULL_SECONDS", raw)
    assert load("feed", 300).pull_seconds == seconds


class Answers:
    def __init__(self) -> None:
        self.seen: list[Request] = []

    def __call__(self, req: Request):
        self.seen.append(req)
        status = int(req.path.strip("/"))
        if status == 299:
            return 200, b"not json"
        return status, {"ok": status == 200}


@pytest.mark.parametrize(
    ("status", "error"),
    [(200, None), (429, TransientError), (502, TransientError), (503, TransientError),
     (504, TransientError), (404, PermanentError), (400, PermanentError),
     (299, PermanentError)],
)  # fmt: skip
def test_the_client_maps_statuses_to_the_layers_errors(monkeypatch, status, error):
    answers = Answers()
    with run_fake(lambda: answers) as url:
        monkeypatch.setenv("GOVDESK_INTEGRATION_ANY_URL", url)
        monkeypatch.setenv("GOVDESK_INTEGRATION_ANY_SECRET", SECRET)
        with client(load("any")) as http:
            if error is None:
                assert http.get_json(f"/{status}") == {"ok": True}
            else:
                with pytest.raises(error) as raised:
                    http.get_json(f"/{status}")
                assert SECRET not in str(raised.value)
    assert verify(SECRET, answers.seen[0].body, answers.seen[0].headers) == ""  # signed


def test_a_post_is_signed_over_its_body(monkeypatch):
    answers = Answers()
    with run_fake(lambda: answers) as url:
        monkeypatch.setenv("GOVDESK_INTEGRATION_ANY_URL", url + "/")
        monkeypatch.setenv("GOVDESK_INTEGRATION_ANY_SECRET", SECRET)
        with client(load("any")) as http:
            http.post_json("200", {"camera": "镜头-1"})
    seen = answers.seen[0]
    assert seen.path == "/200" and seen.json() == {"camera": "镜头-1"}
    assert verify(SECRET, seen.body, seen.headers) == ""
    assert verify("other", seen.body, seen.headers) == "mismatch"


def test_a_read_timeout_is_transient(monkeypatch):
    import threading

    release = threading.Event()

    def slow(req: Request):
        release.wait(timeout=10)
        return 200, {}

    with run_fake(lambda: slow) as url:
        monkeypatch.setenv("GOVDESK_INTEGRATION_ANY_URL", url)
        monkeypatch.setenv("GOVDESK_INTEGRATION_ANY_SECRET", SECRET)
        from api.integrations.http import Client

        http = Client(load("any"), read_timeout=0.2)
        try:
            with pytest.raises(TransientError, match="timed out"):
                http.get_json("/slow")
        finally:
            release.set()
            http.close()
