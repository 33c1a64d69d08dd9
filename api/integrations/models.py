"""Models of the connector layer. Docs: docs/integrations.md#models.

* ``Connector``: one row per connector name, its running state (the pull cursor, when it
  last tried and last succeeded, consecutive errors). Created on first use.
* ``ReceivedRecord``: every record a connector received (webhook or pull), stored once
  per (connector, source id) and processed through ``pending`` → ``done``, or ``dead``
  (a dead letter an operator can replay).
* ``SeenSignature``: webhook signatures already accepted, so a captured request cannot be
  sent again inside the timestamp window (replay protection); pruned after the window.
"""

from __future__ import annotations

from django.db import models


class Connector(models.Model):
    name = models.CharField(max_length=40, unique=True)
    cursor = models.CharField(max_length=500, blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Consecutive failures (pulls and transient handling errors) since the last success.
    error_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_pull_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RecordState(models.TextChoices):
    PENDING = "pending", "待处理"
    DONE = "done", "已处理"
    DEAD = "dead", "死信"


class ReceivedRecord(models.Model):
    connector = models.CharField(max_length=40)
    source_id = models.CharField(max_length=200)
    payload = models.JSONField()
    via = models.CharField(max_length=20)  # "webhook", "pull", or a test/demo name
    state = models.CharField(
        max_length=10, choices=RecordState.choices, default=RecordState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    received_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "source_id"], name="integrations_record_once"
            ),
        ]
        indexes = [
            # The sweep: pending records whose next attempt came.
            models.Index(fields=["state", "next_attempt_at"], name="integrations_record_due"),
            # Dead letters per connector, newest first; health's per-connector counts.
            models.Index(fields=["connector", "state", "-id"], name="integrations_record_state"),
        ]

    def __str__(self) -> str:
        return f"{self.connector}:{self.source_id}"


class SeenSignature(models.Model):
    connector = models.CharField(max_length=40)
    signature = models.CharField(max_length=64)  # hex SHA-256
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "signature"], name="integrations_signature_once"
            ),
        ]
        indexes = [models.Index(fields=["seen_at"], name="integrations_signature_seen")]

    def __str__(self) -> str:
        return f"{self.connector}:{self.signature[:12]}"
