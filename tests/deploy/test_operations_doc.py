"""docs/operations.md matches the code: every variable the settings, the demo launcher,
the compose file and the container scripts read is in its tables, and so is every
entry of beat's schedule. Docs: docs/operations.md#settings."""

from __future__ import annotations

import re

from django.conf import settings

from tests.deploy.helpers import REPO

DOC = (REPO / "docs" / "operations.md").read_text()
# Names that appear in a table row's first column: | `NAME` | or | `A`, `B` |.
DOCUMENTED = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(
    line.split("|")[1] for line in DOC.splitlines() if line.startswith("| `")
)))  # fmt: skip


def _read_by(path: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, (REPO / path).read_text()))


def test_every_setting_is_documented():
    names = _read_by("api/settings.py", r'env\.\w+\(\s*"([A-Z0-9_]+)"')
    assert len(names) >= 25  # the reader pattern still matches the settings module
    assert names - DOCUMENTED == set()


def test_every_launcher_compose_and_container_variable_is_documented():
    names = (
        _read_by("scripts/demo.py", r'os\.environ\.get\("([A-Z0-9_]+)"')
        | _read_by("docker/healthcheck.py", r'os\.environ\.get\("([A-Z0-9_]+)"')
        | _read_by("docker/compose.yaml", r"\$\{([A-Z][A-Z0-9_]+)")
        | _read_by("docker/entrypoint.sh", r"\$\{([A-Z][A-Z0-9_]+)")
        | {line.split("=", 1)[0] for line in (REPO / "docker/.env.example").read_text().splitlines()
           if line and not line.startswith("#")}
    )  # fmt: skip
    assert {"GOVDESK_PORT", "GOVDESK_BIND_HOST", "GOVDESK_ENV_FILE"} <= names
    assert names - DOCUMENTED == set()


def test_every_beat_entry_is_documented():
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert f"| `{name}` | `{entry['task']}` |" in DOC, name
