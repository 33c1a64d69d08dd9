"""Models of the conventions layer: the Idempotency-Key record.

Docs: docs/api.md#idempotency. The record is written in the same database transaction
as the change it guards (api/common/idempotency.py), so a crash leaves either both or
neither. It refers to the user by the configured user model's name only; the
conventions layer imports no app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The committed answer to one ``Idempotency-Key`` of one user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=128)
    # What "the same request" means: method, path and a digest of the body.
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")
        ]

    def __str__(self) -> str:  # pragma: no cover - admin/debug only
        return f"{self.user_id}:{self.key} → {self.status}"
