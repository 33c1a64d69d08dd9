"""Parsing helpers for the notification settings (read in api/settings.py).

Docs: docs/notifications.md#configuration and docs/operations.md. No Django model
import: api/settings.py imports this module.
"""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ImproperlyConfigured

URGENCIES = ("low", "normal", "high", "very_urgent")


def parse_minutes_by_urgency(name: str, raw: str) -> dict[str, int]:
    """``"very_urgent=5,high=15,normal=60,low=0"`` → {urgency: minutes}; 0 = never.

    Every urgency must be named once, so a typo cannot silently switch a rung off."""
    result: dict[str, int] = {}
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in URGENCIES or key in result:
            raise ImproperlyConfigured(
                f"{name}={raw!r} is not valid: expected urgency=minutes for each of "
                f"{', '.join(URGENCIES)}"
            )
        try:
            minutes = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}={raw!r} is not valid: {key} is not an integer"
            ) from None
        if minutes < 0:
            raise ImproperlyConfigured(f"{name}={raw!r} is not valid: {key} is negative")
        result[key] = minutes
    missing = [u for u in URGENCIES if u not in result]
    if missing:
        raise ImproperlyConfigured(f"{name}={raw!r} is not valid: missing {', '.join(missing)}")
    return result


def parse_quiet_hours(name: str, raw: str) -> tuple[time, time] | None:
    """``"22:00-07:00"`` → (start, end) local times; "" or "off" → None (no quiet hours).
    A window whose start is after its end spans midnight."""
    text = raw.strip().lower()
    if text in ("", "off", "none"):
        return None
    try:
        start_text, end_text = text.split("-")
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not valid: expected HH:MM-HH:MM (e.g. 22:00-07:00) or off"
        ) from None
    if start == end:
        raise ImproperlyConfigured(f"{name}={raw!r} is not valid: start equals end")
    return start, end
