"""Writing audit events: ``record(...)`` appends one event to the hash chain.

Docs: docs/security.md#audit. Appends are serialised by locking the chain-head row,
so the chain is a single line even with many web processes and workers. A denied
attempt is recorded in its own transaction (``durable`` when the caller is not
inside one) so that the caller's rollback cannot erase it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.audit.models import AuditChainHead, AuditEvent, AuditResult

GENESIS_HASH = "0" * 64

# Fields covered by the hash, in this order. Changing this list breaks every chain.
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


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        # Microsecond UTC ISO form: identical whether read back from SQLite or PostgreSQL.
        return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def compute_hash(event: AuditEvent) -> str:
    payload = {name: _canonical(getattr(event, name)) for name in HASHED_FIELDS}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _actor_fields(prefix: str, user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {f"{prefix}_id": None, f"{prefix}_username": ""}
    return {f"{prefix}_id": user.pk, f"{prefix}_username": user.get_username()}


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
    detail: dict[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one event. Call inside the transaction of the state change it records,
    so both commit or neither does; for denials call ``record_denied``."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
        if unit_id is None:
            unit_id = getattr(obj, "unit_id", None)
    from api.common.context import current_source_address

    if source_address is None:
        source_address = current_source_address()
    fields = {**_actor_fields("actor", actor), **_actor_fields("on_behalf_of", on_behalf_of)}
    if actor_username and not fields["actor_username"]:
        fields["actor_username"] = actor_username[:64]
    if unit_id is None and actor is not None and getattr(actor, "is_authenticated", False):
        unit_id = getattr(actor, "unit_id", None)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            occurred_at=timezone.now(),
            action=action,
            object_type=object_type,
            object_id="" if object_id is None else str(object_id),
            unit_id=unit_id,
            source_address=source_address,
            result=result,
            detail=detail or {},
            prev_hash=head.last_hash,
            **fields,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(last_seq=event.seq, last_hash=event.hash)
    return event


def record_denied(action: str, **kwargs: Any) -> AuditEvent:
    """Record a refused attempt. Call it before raising, outside the atomic block of
    the refused change (views check permission first), so it always commits."""
    kwargs.setdefault("result", AuditResult.DENIED)
    return record(action, **kwargs)
