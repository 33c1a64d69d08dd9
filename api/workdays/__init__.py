"""Working-day calendar and deadline policy. Docs: docs/workdays.md.

The public functions are importable from here (loaded lazily so that importing the
package does not touch the app registry): ``is_working_day``, ``add_working_days``,
``add_working_seconds``, ``working_seconds_between``, ``deadline_days``.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "is_working_day": "api.workdays.calendar",
    "add_working_days": "api.workdays.deadlines",
    "add_working_seconds": "api.workdays.deadlines",
    "working_seconds_between": "api.workdays.deadlines",
    "deadline_days": "api.workdays.deadlines",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
