"""Writing audit events: ``record(...)`` appends one event to the hash chain.

Docs: docs/audit.md#recording-events-guidance-for-engineers (how and when to call
it). Appends are serialised by locking the chain-head row (``select_for_update``; on
SQLite the immediate write transaction does the same), so the chain is a single line
even with many web processes and workers.

* ``record(...)`` joins the caller's transaction: the event commits with the state
  change it describes, or neither does. Call it last in the action, after the other
  rows are locked and changed: the head lock is held until the transaction commits,
  and taking it last keeps that short and the lock order the same everywhere.
* ``record_denied(...)`` records a refused attempt in its own, durable transaction;
  calling it inside an atomic block raises ``RuntimeError`` (the caller's rollback
  would erase the record of the refusal).

Values are normalised before hashing (text truncated to the column size, NUL
characters replaced, IP addresses in compressed form, ``detail`` made plain JSON) so
the row read back from SQLite or PostgreSQL hashes exactly as written.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.audit.hashing import compute_hash
from api.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditResult
from api.common.datetimes import client_datetime
from api.common.idempotency import in_request_transaction

__all__ = ["GENESIS_HASH", "MAX_DETAIL_CHARS", "compute_hash", "record", "record_denied"]

# A detail larger than this (as JSON text) is replaced by a truncated preview.
MAX_DETAIL_CHARS = 16_000
_RESULTS = frozenset(AuditResult.values)


def _text(value: Any, field: str) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\x00", "\ufffd")
    max_length = getattr(AuditEvent._meta.get_field(field), "max_length", None) or len(text)
    return text[:max_length]


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _address(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # an IPv6 zone id is local to the host
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """``value`` as plain JSON that both databases store and return unchanged."""
    if isinstance(value, Mapping):
        return {_plain_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, datetime):  # as the audit API shows it (docs/api.md#datetimes)
        return client_datetime(value)
    return str(value).replace("\x00", "\ufffd")


def _plain_key(key: Any) -> str:
    return str(key).replace("\x00", "\ufffd")


def normalise_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    if not detail:
        return {}
    if not isinstance(detail, Mapping):
        raise TypeError("audit detail must be a mapping")
    plain = _plain(detail)
    text = json.dumps(plain, ensure_ascii=False, sort_keys=True, allow_nan=False)
    if len(text) > MAX_DETAIL_CHARS:
        return {"truncated": True, "preview": text[: MAX_DETAIL_CHARS // 2]}
    return plain


def _actor_fields(prefix: str, user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {f"{prefix}_id": None, f"{prefix}_username": ""}
    return {
        f"{prefix}_id": _int_or_none(user.pk),
        f"{prefix}_username": _text(user.get_username(), f"{prefix}_username"),
    }


def _append(fields: dict[str, Any], *, durable: bool) -> AuditEvent:
    with transaction.atomic(durable=durable):
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            AuditChainHead.objects.get_or_create(pk=1)
            head = AuditChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            occurred_at=timezone.now(),
            prev_hash=head.last_hash,
            **fields,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
    return event


def _build(
    action: str,
    *,
    actor: Any,
    on_behalf_of: Any,
    obj: Any,
    object_type: str,
    object_id: str | int | None,
    unit_id: int | None,
    source_address: str | None,
    result: str,
    detail: Mapping[str, Any] | None,
    actor_username: str,
) -> dict[str, Any]:
    if not action or not isinstance(action, str):
        raise ValueError("an audit event needs an action name, e.g. 'document.sign_off'")
    if result not in _RESULTS:
        raise ValueError(f"audit result must be one of {sorted(_RESULTS)}, not {result!r}")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
        if unit_id is None:
            # An event about a unit belongs to that unit; otherwise to the object's unit.
            is_unit = obj._meta.label_lower == "accounts.unit"
            unit_id = obj.pk if is_unit else getattr(obj, "unit_id", None)
    if source_address is None:
        from api.common.context import current_source_address

        source_address = current_source_address()
    fields = {**_actor_fields("actor", actor), **_actor_fields("on_behalf_of", on_behalf_of)}
    if actor_username and not fields["actor_username"]:
        fields["actor_username"] = _text(actor_username, "actor_username")
    if unit_id is None and actor is not None and getattr(actor, "is_authenticated", False):
        unit_id = getattr(actor, "unit_id", None)
    return {
        **fields,
        "action": _text(action, "action"),
        "object_type": _text(object_type, "object_type"),
        "object_id": _text(object_id, "object_id"),
        "unit_id": _int_or_none(unit_id),
        "source_address": _address(source_address),
        "result": str(result),
        "detail": normalise_detail(detail),
    }


def record(
    action: str,
    *,
    actor: Any = None,
    on_behalf_of: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int | None = "",
    unit_id: int | None = None,
    source_address: str | None = None,
    result: str = AuditResult.SUCCESS,
    detail: Mapping[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one event, inside the caller's transaction when there is one.

    ``actor`` is the user who acted (``on_behalf_of`` the user they stood in for, A/B
    post); ``obj`` fills ``object_type``/``object_id`` and, when it has one,
    ``unit_id``; otherwise ``unit_id`` defaults to the actor's unit.
    ``source_address`` defaults to the client address decided by the network-zone
    middleware for this request. ``actor_username`` names an actor with no account
    (a failed login for an unknown username). ``detail`` is a small JSON object —
    never passwords, tokens or document bodies."""
    fields = _build(
        action,
        actor=actor,
        on_behalf_of=on_behalf_of,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        unit_id=unit_id,
        source_address=source_address,
        result=result,
        detail=detail,
        actor_username=actor_username,
    )
    return _append(fields, durable=False)


def record_denied(
    action: str,
    *,
    actor: Any = None,
    on_behalf_of: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int | None = "",
    unit_id: int | None = None,
    source_address: str | None = None,
    result: str = AuditResult.DENIED,
    detail: Mapping[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Record a refused attempt (403, or a 404 that hides another unit's object) in
    its own committed transaction. Call it before raising the error and outside any
    atomic block; inside one it raises ``RuntimeError`` — except the request's own
    transaction opened by ``@idempotent``, which commits every 4xx answer with it
    (api/common/idempotency.py)."""
    fields = _build(
        action,
        actor=actor,
        on_behalf_of=on_behalf_of,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        unit_id=unit_id,
        source_address=source_address,
        result=result,
        detail=detail,
        actor_username=actor_username,
    )
    return _append(fields, durable=not in_request_transaction())
