"""Per-request context (the client address decided by the zone policy), readable
from domain code without passing the request around. Docs: docs/architecture.md."""

from __future__ import annotations

from contextvars import ContextVar

_source_address: ContextVar[str | None] = ContextVar("govdesk_source_address", default=None)


def current_source_address() -> str | None:
    return _source_address.get()


def set_source_address(value: str | None):
    return _source_address.set(value)


def reset_source_address(token) -> None:
    _source_address.reset(token)
