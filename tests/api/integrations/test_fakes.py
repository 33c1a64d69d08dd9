"""The city fakes' server: fakes mounted under prefixes on one loopback port
(docs/integrations.md#fakes). No database."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from cityfakes import __main__ as cli
from cityfakes.server import FakeContext, Request, Router, make_server, serve


def _get(url: str) -> tuple[int, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_the_router_mounts_fakes_under_their_prefix():
    seen: list[str] = []

    def echo(req: Request):
        seen.append(req.path)
        return 200, {"path": req.path, "query": req.query}

    with serve(Router({"echo": echo})) as url:
        assert _get(url + "/echo/items?after=3") == (
            200,
            {"path": "/items", "query": {"after": "3"}},
        )
        assert _get(url + "/") == (200, {"fakes": ["echo"]})
        with pytest.raises(urllib.error.HTTPError) as missing:
            _get(url + "/nosuch/x")
        assert missing.value.code == 404
    assert seen == ["/items"]


def test_a_fake_that_raises_answers_500():
    def broken(req: Request):
        raise RuntimeError("bug")

    with serve(broken) as url, pytest.raises(urllib.error.HTTPError) as failed:
        _get(url + "/x")
    assert failed.value.code == 500


def test_the_fakes_bind_loopback_only():
    with pytest.raises(ValueError):
        make_server(lambda req: (200, None), host="0.0.0.0")


def test_the_cli_builds_every_listed_fake_with_its_context(monkeypatch):
    made: list[FakeContext] = []

    def factory(context: FakeContext):
        made.append(context)
        return lambda req: (200, {"name": context.name})

    import sys
    import types

    module = types.ModuleType("cityfakes_test_fake")
    module.make = factory  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cityfakes_test_fake", module)
    monkeypatch.setattr(cli, "FAKES", [("alpha", "cityfakes_test_fake:make")])
    monkeypatch.setenv("CITYFAKES_SECRET_ALPHA", "s3")
    router = cli.build(cli.secrets_from(None), "http://127.0.0.1:8000")
    assert made == [FakeContext("alpha", "s3", "http://127.0.0.1:8000")]
    with serve(router) as url:
        assert _get(url + "/alpha/") == (200, {"name": "alpha"})
