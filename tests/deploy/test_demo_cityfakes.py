"""The demo runs the city fakes and points every connector at them
(docs/integrations.md#the-demo)."""

from __future__ import annotations

import importlib.util
import json
import stat
import subprocess
import sys

from tests.deploy.helpers import PYTHON, REPO

DEMO = REPO / "scripts" / "demo.py"


def _load_demo_module():
    spec = importlib.util.spec_from_file_location("govdesk_demo_launcher_cityfakes", DEMO)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


demo = _load_demo_module()


class _Settings:
    CELERY_BEAT_SCHEDULE_FILENAME = "/tmp/x"
    GOVDESK_WEB_THREADS = 4


def test_secrets_are_made_once_private_and_kept(tmp_path):
    path = demo.city_fakes_secrets(tmp_path, ["video", "emergency"])
    first = json.loads(path.read_text())
    assert set(first) == {"video", "emergency"} and all(len(v) >= 32 for v in first.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / "video.secret").read_text() == first["video"]
    assert stat.S_IMODE((tmp_path / "video.secret").stat().st_mode) == 0o600
    again = json.loads(demo.city_fakes_secrets(tmp_path, ["video", "basedata"]).read_text())
    assert again["video"] == first["video"]  # kept between runs
    assert set(again) == {"video", "emergency", "basedata"}


def test_every_connector_is_pointed_at_its_fake(tmp_path):
    env = demo.city_fakes_environment(tmp_path, 8130)
    for name in demo.CITY_CONNECTORS:
        prefix = f"GOVDESK_INTEGRATION_{name.upper()}_"
        assert env[prefix + "URL"] == f"http://127.0.0.1:8130/{name}"
        assert env[prefix + "SECRET_FILE"] == str(tmp_path / f"{name}.secret")
    commands = dict(
        demo.build_commands(
            PYTHON, _Settings(), "127.0.0.1", 8000, (tmp_path, 8125), (tmp_path / "s.json", 8130)
        )
    )
    assert list(commands)[:2] == ["fakes", "cityfakes"]  # up before web, worker and beat
    assert commands["cityfakes"][1:6] == ["-m", "cityfakes", "serve", "--port", "8130"]
    assert commands["cityfakes"][-2:] == ["--govdesk-url", "http://127.0.0.1:8000"]


def test_the_city_fakes_cli_lists_its_fakes():
    result = subprocess.run(
        [PYTHON, "-m", "cityfakes", "serve", "--list"],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
