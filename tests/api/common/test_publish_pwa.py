"""manage.py publish_pwa: the PWA into STATIC_ROOT/app for nginx (docs/pwa.md)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.common.management.commands.publish_pwa import publish


def _build(root: Path, version: str, assets: list[str]) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(f"<html>{version}</html>")
    (root / "sw.js").write_text(f"// {version}")
    for name in assets:
        (root / "assets" / name).write_text(name)
    return root


def test_a_new_release_replaces_the_old_but_keeps_its_hashed_assets(tmp_path):
    static = tmp_path / "static"
    publish(_build(tmp_path / "v1", "v1", ["index-aaaa.js", "shared-cccc.css"]), static)
    app = publish(_build(tmp_path / "v2", "v2", ["index-bbbb.js", "shared-cccc.css"]), static)

    assert app == static / "app"
    assert (app / "index.html").read_text() == "<html>v2</html>"
    assert (app / "sw.js").read_text() == "// v2"
    # a phone still on v1 can load its chunks; v2's own files win where names match
    assert sorted(p.name for p in (app / "assets").iterdir()) == [
        "index-aaaa.js",
        "index-bbbb.js",
        "shared-cccc.css",
    ]
    assert sorted(p.name for p in static.iterdir()) == ["app"]  # no .new / .old left


def test_leftovers_of_an_interrupted_run_are_cleared(tmp_path):
    static = tmp_path / "static"
    (static / ".app.new" / "junk").mkdir(parents=True)
    (static / ".app.old").mkdir()
    publish(_build(tmp_path / "v1", "v1", ["a-1111.js"]), static)
    assert sorted(p.name for p in static.iterdir()) == ["app"]
    assert not (static / "app" / "junk").exists()


def test_without_a_build_it_refuses_unless_asked_to_skip(tmp_path, settings):
    settings.GOVDESK_PWA_DIST = tmp_path / "missing"
    settings.STATIC_ROOT = str(tmp_path / "static")
    with pytest.raises(CommandError, match="no PWA build"):
        call_command("publish_pwa")
    out = StringIO()
    call_command("publish_pwa", "--if-built", stdout=out)
    assert "nothing published" in out.getvalue()
    assert not (tmp_path / "static" / "app").exists()


def test_the_command_publishes_the_configured_build(tmp_path, settings):
    settings.GOVDESK_PWA_DIST = _build(tmp_path / "dist", "v7", ["x-1234.js"])
    settings.STATIC_ROOT = str(tmp_path / "static")
    out = StringIO()
    call_command("publish_pwa", stdout=out)
    assert "PWA published to" in out.getvalue()
    assert (tmp_path / "static" / "app" / "index.html").read_text() == "<html>v7</html>"
