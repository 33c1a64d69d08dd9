"""scripts/demo_rules.py against a demo that scripts/demo.py launched
(docs/demo.md#the-rules-walk-through): every rule line passes — the time limits on the backfilled
documents, distribution, replies, filing, the urge cap's one SMS (quiet hours off, so
the hour of the run does not matter) and the VPN config (skipped without wg-quick)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.deploy.helpers import PYTHON, REPO, free_port, tail
from tests.deploy.test_demo_runner import TEST_PASSWORD, Launcher

SCRIPT = REPO / "scripts" / "demo_rules.py"


@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the demo runs on its embedded defaults whatever the services are; "
    "the newcomer pass (no DATABASE_URL) runs this walk-through",
)
def test_the_rules_walk_through_passes_on_a_launched_demo(tmp_path):
    launcher = Launcher(tmp_path / "var", free_port(), tmp_path / "demo.log")
    launcher.env["GOVDESK_NOTIFY_QUIET_HOURS"] = "off"
    launcher.start()
    try:
        launcher.wait_ready()
        launcher.wait_for_banner()
        run = subprocess.run(
            [PYTHON, str(SCRIPT)],
            cwd=str(REPO),
            env={
                **launcher.env,
                "GOVDESK_URL": launcher.base,
                "GOVDESK_DEMO_PASSWORD": TEST_PASSWORD,
                "GOVDESK_VAR_DIR": str(launcher.var_dir),
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        report = f"{run.stdout}\n{run.stderr}\n--- launcher log ---\n{tail(launcher.log)}"
        assert run.returncode == 0, report
        states: dict[str, list[str]] = {}
        for line in run.stdout.splitlines():
            words = line.split()
            if len(words) > 1 and words[0] in {"PASS", "FAIL", "SKIP"}:
                states.setdefault(words[1], []).append(words[0])
        assert states["a."] == ["PASS"] * 3, report
        assert states["b."] == ["PASS"] and states["c."] == ["PASS", "PASS"], report
        assert states["d."] == ["PASS"] and states["e."] == ["PASS", "PASS"], report
        assert states["f."] == (["PASS"] if shutil.which("wg-quick") else ["SKIP"]), report
        assert ", 0 failed," in run.stdout, report
        # the demo's seed is idempotent on this database: a second run changes nothing
        seeded = subprocess.run(
            [PYTHON, str(REPO / "manage.py"), "seed_demo", "--backfill"],
            cwd=str(REPO),
            env=launcher.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert seeded.returncode == 0 and "nothing to change" in seeded.stdout, seeded.stdout
    finally:
        launcher.cleanup()
