"""Document exchange between units (公文交换): dispatches, receipts, exchange groups.

Docs: docs/exchange.md. Every state change lives in api/exchange/actions.py; nothing
here writes on its own.

A ``Dispatch`` is one sending of a sealed outgoing document; it has one ``Receipt``
per recipient unit (主送 ``to`` or 抄送 ``cc``). A receipt moves once, from
``pending`` to ``signed_for`` (签收), ``returned`` (退文) or ``recalled`` (撤回);
``read_at`` is set the first time the receiving clerk opens it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DispatchState(models.TextChoices):
    # The Dispatch and all its receipts exist; the notifications are being fanned out.
    SENDING = "sending", "分发中"
    # The worker notified every pending recipient (fan-out finished).
    SENT = "sent", "已分发"


class ReceiptRole(models.TextChoices):
    TO = "to", "主送"
    CC = "cc", "抄送"


class ReceiptState(models.TextChoices):
    PENDING = "pending", "待签收"
    SIGNED_FOR = "signed_for", "已签收"
    RETURNED = "returned", "已退回"
    RECALLED = "recalled", "已撤回"


class Dispatch(models.Model):
    """One sending of ``document`` by ``sender_unit`` (at most one per document)."""

    document = models.OneToOneField(
        "documents.Document", on_delete=models.PROTECT, related_name="dispatch"
    )
    sender_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="dispatches"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=10, choices=DispatchState.choices, default=DispatchState.SENDING
    )
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    # The sealed rendering that was sent (its file is what every recipient gets);
    # empty only for a reply (答复) sent back by the incoming flow, whose text is on
    # the original receipt (``reply_text``).
    rendering = models.ForeignKey(
        "documents.RenderedPdf", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group_ids = models.JSONField(
        default=list, blank=True, help_text="groups chosen, for the record"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["sender_unit", "-id"], name="dispatch_sender_idx")]

    def __str__(self) -> str:
        return f"dispatch {self.pk} of document {self.document_id}"


class Receipt(models.Model):
    """One recipient unit's copy of a dispatch and where it stands."""

    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="receipts")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="receipts")
    role = models.CharField(max_length=2, choices=ReceiptRole.choices)
    state = models.CharField(
        max_length=12, choices=ReceiptState.choices, default=ReceiptState.PENDING
    )
    sent_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_for_at = models.DateTimeField(null=True, blank=True)
    signed_for_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.CharField(max_length=500, blank=True, default="")
    # The incoming flow's step that returned it after sign-for (e.g.
    # ``preliminary_review`` 初审); empty for a 退文 from the inbox.
    returned_at_step = models.CharField(max_length=20, blank=True, default="")
    recalled_at = models.DateTimeField(null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The reply (答复) of the receiving unit's incoming flow: the text, when, and the
    # receipt that carried it back to the sending unit's inbox (its ``in_reply_to``).
    replied_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.TextField(blank=True, default="")
    reply_receipt = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="in_reply_to"
    )
    # Set on sign-for: the incoming document (收文) created in the recipient unit and
    # the incoming workflow instance started for it (None when no flow was started).
    incoming_document = models.OneToOneField(
        "documents.Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchange_receipt",
    )
    incoming_instance = models.ForeignKey(
        "workflow.WorkflowInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "unit"], name="receipt_unique_per_unit"),
            models.CheckConstraint(
                condition=~Q(state="signed_for") | Q(signed_for_at__isnull=False),
                name="receipt_signed_for_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "state", "-id"], name="receipt_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk} ({self.unit_id}, {self.state})"


class ExchangeGroup(models.Model):
    """A named set of units addressed in one choice (e.g. 全体区县政府), maintained by
    city IT admins."""

    name = models.CharField(max_length=100, unique=True)
    units = models.ManyToManyField("accounts.Unit", related_name="exchange_groups")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
