"""Benchmarks run only when asked for (``make bench`` or ``pytest tests/bench``).

Docs: docs/testing.md. ``make test`` collects ``tests/`` and must not spend minutes
here, so this directory is skipped unless a command-line path points into it.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent.resolve()


def _asked_for(config) -> bool:
    for arg in config.args:
        target = Path(str(arg).split("::")[0]).resolve()
        if target == HERE or HERE in target.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if collection_path.resolve() == HERE / "conftest.py":
        return None
    return None if _asked_for(config) else True
