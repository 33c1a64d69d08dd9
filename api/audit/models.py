"""Append-only, hash-chained audit log (审计日志).

Docs: docs/audit.md. Each event stores the hash of the previous one; the chain head
(one row) holds the last sequence number and hash, and — after retention pruning —
the first kept sequence number and the hash it must link to (the anchor). So an
edited, inserted or deleted row, including the last one, is found by
``manage.py verify_audit``.

The ORM refuses updates and deletes of events (``save`` of an existing row,
``delete``, ``QuerySet.update``/``delete``); on PostgreSQL a trigger refuses them at
the database level too (migration 0003). Only the retention pruner deletes, through
``api.audit.retention``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64


class AuditResult(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("append audit events with api.audit.recorder.record()")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One recorded event. Every field below except ``id`` and ``hash`` is covered by
    ``hash`` (see api/audit/hashing.py for the canonical form)."""

    seq = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=64, blank=True, db_index=True)
    on_behalf_of_id = models.BigIntegerField(null=True, blank=True)
    on_behalf_of_username = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    unit_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    source_address = models.GenericIPAddressField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=AuditResult.choices)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.result}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class AuditChainHead(models.Model):
    """The single row (id=1) that serialises appends and remembers both ends of the
    chain: ``last_seq``/``last_hash`` (the newest event) and ``first_seq``/
    ``anchor_hash`` (the oldest kept event and the ``prev_hash`` it must carry; they
    move forward only when the retention pruner deletes a prefix)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    first_seq = models.BigIntegerField(default=1)
    anchor_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single_row")
        ]

    def __str__(self) -> str:
        return f"audit chain {self.first_seq}..{self.last_seq}"
