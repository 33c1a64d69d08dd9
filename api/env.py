"""Typed environment parsing that fails loudly on a bad value.

Docs: docs/operations.md (every setting, its type and default).

Each reader raises ``ImproperlyConfigured`` naming the variable and what was wrong,
so a typo in a deployment stops the process at start-up instead of running with a
silently different value.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from datetime import time
from typing import TypeVar
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")
# Aliases: the reader methods are named after the types they return.
Str = str
List = list

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Env:
    """Reads settings from a mapping (``os.environ`` by default)."""

    def __init__(self, source: Mapping[Str, str] | None = None) -> None:
        self.source = os.environ if source is None else source

    def _raw(self, name: Str) -> Str | None:
        value = self.source.get(name)
        return None if value is None else value.strip()

    def _fail(self, name: Str, value: Str, expected: Str) -> ImproperlyConfigured:
        # The value is not echoed for secrets; callers pass a redacted one when needed.
        return ImproperlyConfigured(f"{name}={value!r} is not valid: expected {expected}")

    def str(self, name: Str, default: Str) -> Str:
        raw = self._raw(name)
        return default if raw is None or raw == "" else raw

    def secret(self, name: Str, default: Str) -> Str:
        raw = self._raw(name)
        return default if raw is None or raw == "" else raw

    def bool(self, name: Str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise self._fail(name, raw, "one of 1/0, true/false, yes/no, on/off")

    def int(
        self, name: Str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        raw = self._raw(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self._fail(name, raw, "an integer") from None
        if minimum is not None and value < minimum:
            raise self._fail(name, raw, f"an integer >= {minimum}")
        if maximum is not None and value > maximum:
            raise self._fail(name, raw, f"an integer <= {maximum}")
        return value

    def choice(self, name: Str, default: Str, choices: tuple[Str, ...]) -> Str:
        raw = self._raw(name)
        if raw is None or raw == "":
            return default
        if raw not in choices:
            raise self._fail(name, raw, "one of " + ", ".join(choices))
        return raw

    def list(
        self,
        name: Str,
        default: List[Str],
        item: Callable[[Str], T] | None = None,
        expected: Str = "a comma-separated list",
    ) -> List:
        raw = self._raw(name)
        parts = list(default) if raw is None else [p.strip() for p in raw.split(",") if p.strip()]
        if item is None:
            return parts
        out = []
        for part in parts:
            try:
                out.append(item(part))
            except ValueError:
                raise self._fail(name, part, expected) from None
        return out

    def networks(self, name: Str, default: List[Str]) -> List[IPNetwork]:
        return self.list(
            name,
            default,
            item=lambda s: ipaddress.ip_network(s, strict=False),
            expected="a comma-separated list of CIDR networks, e.g. 10.0.0.0/8,127.0.0.1/32",
        )

    def url(self, name: Str, default: Str, schemes: tuple[Str, ...]) -> Str:
        raw = self._raw(name)
        if raw is None or raw == "":
            return default
        parts = urlsplit(raw)
        if parts.scheme not in schemes:
            redacted = f"{parts.scheme}://…" if parts.scheme else raw[:20]
            raise self._fail(name, redacted, "a URL with scheme " + " or ".join(schemes))
        return raw

    def origins(self, name: Str, default: List[Str]) -> List[Str]:
        def origin(value: Str) -> Str:
            parts = urlsplit(value)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                not in (
                    "",
                    "/",
                )
            ):
                raise ValueError(value)
            return f"{parts.scheme}://{parts.netloc}"

        return self.list(
            name,
            default,
            item=origin,
            expected="comma-separated origins such as https://oa.example.gov.cn",
        )


# --- Notification settings (docs/notifications.md#configuration) ----------------------

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
