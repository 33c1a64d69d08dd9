"""The connectors GovDesk knows: each connector app registers one ``ConnectorSpec`` in its
``AppConfig.ready()``. Docs: docs/integrations.md#how-to-add-a-connector.

A spec names what the layer cannot know: how to apply one record (``handle``, idempotent
by source id), where an inbound event's id is (``source_id_of``) and how to fetch a page
of records after a cursor (``pull``). Everything else — storage exactly once, retries,
dead letters, signatures, schedule, health — is the layer's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.integrations.config import ConnectorConfig

if TYPE_CHECKING:
    from api.integrations.http import Client

NAME = re.compile(r"^[a-z][a-z0-9]{1,39}$")


@dataclass(frozen=True)
class PullContext:
    cursor: str  # "" on the first pull
    config: ConnectorConfig
    http: Client


@dataclass(frozen=True)
class PullResult:
    records: list[tuple[str, dict]]  # (source id, payload)
    cursor: str  # stored with the records, in the same transaction
    more: bool = False  # another page is ready now: pull again at once


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    title: str
    handle: Callable[[str, dict], None]
    source_id_of: Callable[[dict], str] | None = None
    pull: Callable[[PullContext], PullResult] | None = None
    pull_every_seconds: int = 300
    # A connector whose sources are not one endpoint with a shared secret (public feeds
    # whose addresses live in GovDesk's own data) says when it has work; webhooks still
    # need a URL and a secret (api/integrations/views.py).
    is_configured: Callable[[ConnectorConfig], bool] | None = None


def configured(spec: ConnectorSpec, config: ConnectorConfig) -> bool:
    """Whether ``spec`` pulls (and shows as configured in health) with ``config``."""
    return spec.is_configured(config) if spec.is_configured else config.configured


_SPECS: dict[str, ConnectorSpec] = {}


def register(spec: ConnectorSpec) -> None:
    """Add ``spec``; registering the same name again replaces it (tests do)."""
    if not NAME.match(spec.name):
        raise ValueError(f"connector name {spec.name!r} must be 2-40 lowercase letters/digits")
    _SPECS[spec.name] = spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


def get(name: str) -> ConnectorSpec:
    """The spec of ``name``; ``KeyError`` when no connector has that name."""
    return _SPECS[name]


def all_specs() -> list[ConnectorSpec]:
    return sorted(_SPECS.values(), key=lambda spec: spec.name)
