"""The canonical form of an audit event and its hash.

Docs: docs/audit.md#the-hash. The hash must come out the same whether the event is the
object just built by the recorder or a row read back from SQLite or PostgreSQL, so
every field is reduced to one canonical JSON value first:

* integers (``seq``, ``actor_id``, ``on_behalf_of_id``, ``unit_id``) → JSON integers
  (a numeric string such as ``"7"`` becomes ``7``); missing → ``null``;
* text fields → strings (missing → ``""``);
* ``occurred_at`` → UTC, microseconds, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
* ``source_address`` → the compressed text form of the IP address (an IPv4-mapped
  IPv6 address is kept as IPv6, e.g. ``::ffff:a00:1``), or ``null``;
* ``detail`` → JSON with sorted keys at every level; a float with an integral value
  becomes the integer its shortest decimal form denotes (PostgreSQL's ``jsonb``
  gives ``1e23`` back as ``100000000000000000000000``).

The hash is SHA-256 over ``json.dumps(payload, sort_keys=True, ensure_ascii=False,
separators=(",", ":"))`` encoded as UTF-8, where the payload holds ``v`` (the
format version) and the fields in ``HASHED_FIELDS``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

HASH_VERSION = 1

# Fields covered by the hash. Changing this list or the canonical form needs a new
# HASH_VERSION (and a verifier that knows both).
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "on_behalf_of_id",
    "on_behalf_of_username",
    "action",
    "object_type",
    "object_id",
    "unit_id",
    "source_address",
    "result",
    "detail",
    "prev_hash",
)
INT_FIELDS = frozenset({"seq", "actor_id", "on_behalf_of_id", "unit_id"})
TEXT_FIELDS = frozenset(
    {
        "actor_username",
        "on_behalf_of_username",
        "action",
        "object_type",
        "object_id",
        "result",
        "prev_hash",
    }
)


def canonical_time(value: datetime | str) -> str:
    if isinstance(value, str):  # an exported archive line
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_address(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return ipaddress.ip_address(str(value)).compressed


def canonical_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def canonical_json(value: Any) -> Any:
    """A JSON value reduced so that SQLite's text and PostgreSQL's jsonb agree."""
    if isinstance(value, Mapping):
        return {str(k): canonical_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_json(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            # The integer the float's shortest decimal form denotes, as jsonb keeps it.
            return int(Decimal(repr(value)))
        return value
    return str(value)


def canonical_value(name: str, value: Any) -> Any:
    if name in INT_FIELDS:
        return canonical_int(value)
    if name in TEXT_FIELDS:
        return "" if value is None else str(value)
    if name == "occurred_at":
        return canonical_time(value)
    if name == "source_address":
        return canonical_address(value)
    if name == "detail":
        return canonical_json(value or {})
    raise KeyError(name)


def canonical_payload(event: Any) -> dict[str, Any]:
    """The canonical payload of an event given as a model instance or a mapping."""
    if isinstance(event, Mapping):
        payload = {name: canonical_value(name, event.get(name)) for name in HASHED_FIELDS}
    else:
        payload = {name: canonical_value(name, getattr(event, name)) for name in HASHED_FIELDS}
    payload["v"] = HASH_VERSION
    return payload


def canonical_text(event: Any) -> str:
    return json.dumps(
        canonical_payload(event),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )


def compute_hash(event: Any) -> str:
    return hashlib.sha256(canonical_text(event).encode("utf-8")).hexdigest()
