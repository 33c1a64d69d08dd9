"""Official documents (公文), their versions, attachments and document numbers.

Docs: docs/documents.md. State changes live in api/documents/actions.py; nothing
here writes on its own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Direction(models.TextChoices):
    OUTGOING = "outgoing", "发文"
    INCOMING = "incoming", "收文"


class DocType(models.TextChoices):
    NOTICE = "notice", "通知"
    REQUEST = "request", "请示"
    REPORT = "report", "报告"
    LETTER = "letter", "函"
    MINUTES = "minutes", "纪要"
    DECISION = "decision", "决定"
    REPLY = "reply", "批复"
    OPINION = "opinion", "意见"
    CIRCULAR = "circular", "通报"
    ANNOUNCEMENT = "announcement", "通告"
    ORDER = "order", "命令"
    MOTION = "motion", "议案"
    RESOLUTION = "resolution", "决议"
    BULLETIN = "bulletin", "公报"
    PUBLIC_NOTICE = "public_notice", "公告"


class Urgency(models.TextChoices):
    NORMAL = "normal", "普通"
    URGENT = "urgent", "加急"
    VERY_URGENT = "very_urgent", "特急"


class Classification(models.TextChoices):
    # Only non-classified documents travel on the platform (DOMAIN.md rule 1).
    NONE = "none", "非密"


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    IN_PROGRESS = "in_progress", "流转中"
    COMPLETED = "completed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"
    RETURNED = "returned", "已退回"


EDITABLE_STATUSES = frozenset({DocumentStatus.DRAFT, DocumentStatus.RETURNED})

# Fields a PATCH may change (direction and unit are fixed at creation).
EDITABLE_FIELDS = (
    "title",
    "doc_type",
    "urgency",
    "classification",
    "body",
    "main_recipients",
    "cc",
    "header_text",
)
# Fields kept in every version snapshot.
SNAPSHOT_FIELDS = (*EDITABLE_FIELDS, "direction", "unit_id", "status", "doc_number")


class Document(models.Model):
    """A 公文. ``body`` is a list of paragraphs ``{"level": 0-4, "text": str}`` (level 0
    a plain paragraph, 1–4 the headings 一、/（一）/1./（1）). ``version`` grows by one
    with every change (edit, attachment, status, number) and each change leaves a
    ``DocumentVersion``; ``doc_number`` stays empty until the number step."""

    direction = models.CharField(max_length=10, choices=Direction.choices)
    title = models.CharField(max_length=200)
    doc_type = models.CharField(max_length=20, choices=DocType.choices)
    urgency = models.CharField(max_length=12, choices=Urgency.choices, default=Urgency.NORMAL)
    classification = models.CharField(
        max_length=10, choices=Classification.choices, default=Classification.NONE
    )
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="documents")
    drafter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafted_documents"
    )
    body = models.JSONField(default=list, blank=True)
    main_recipients = models.CharField(max_length=500, blank=True)
    cc = models.CharField(max_length=500, blank=True)
    header_text = models.CharField(max_length=200, blank=True)
    doc_number = models.CharField(max_length=60, blank=True, default="")
    status = models.CharField(
        max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The document's overall time limit (限时办结, docs/workflow.md#document-time-limits),
    # kept by the workflow engine (api/workflow/time_limits.py), never by an edit: set at
    # the first submission, paused while the document is back with its drafter, resumed
    # on resubmission with what was left.
    time_limit_days = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    limit_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="overall due time; pushed back by paused time"
    )
    limit_paused_at = models.DateTimeField(null=True, blank=True)
    limit_paused_seconds = models.PositiveIntegerField(default=0)
    limit_done_at = models.DateTimeField(
        null=True, blank=True, help_text="when its flow completed (on time or late)"
    )
    overdue_at = models.DateTimeField(
        null=True, blank=True, help_text="when it was marked overdue (once)"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["unit", "status", "-id"], name="document_unit_status_idx"),
            models.Index(fields=["drafter", "-id"], name="document_drafter_idx"),
            # The overdue scan (api/workflow/time_limits.py) reads running documents by due_at.
            models.Index(
                fields=["due_at"],
                condition=Q(overdue_at__isnull=True, limit_done_at__isnull=True),
                name="document_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(classification="none"), name="document_never_classified"
            ),
            models.UniqueConstraint(
                fields=["unit", "doc_number"],
                condition=~Q(doc_number=""),
                name="document_number_unique_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"document {self.pk} {self.title[:30]}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Past its overall due time: marked so (once, by the workflow), or its clock went
        past it — still running now, or before it was completed or paused (the periodic
        task may not have come round yet)."""
        if self.overdue_at is not None:
            return True
        if self.due_at is None:
            return False
        return self.due_at < (self.limit_done_at or self.limit_paused_at or timezone.now())

    def snapshot(self, attachments: list[dict] | None = None) -> dict:
        data = {name: getattr(self, name) for name in SNAPSHOT_FIELDS}
        if attachments is not None:
            data["attachments"] = attachments
        return data


class DocumentVersion(models.Model):
    """One change of a document: who, when, which fields, and the state after it."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="empty for a change made by the workflow engine (a status change)",
    )
    edited_at = models.DateTimeField(default=timezone.now)
    changed_fields = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="document_version_unique")
        ]


class Attachment(models.Model):
    """A file of a document. Stored under GOVDESK_ATTACHMENT_DIR by a random name
    (``storage_key``), never under the web root; ``content_type`` is what the content
    is (magic bytes), not what the client said. Removal is a soft delete: the file and
    the row stay for the record."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=80, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["document", "deleted_at"], name="attachment_doc_idx")]

    def summary(self) -> dict:
        return {
            "id": self.pk,
            "name": self.original_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


class NumberPrefix(models.Model):
    """A unit's 发文字号 prefix for one document type (e.g. 新府函 for letters), used
    instead of ``Unit.doc_prefix`` for that type."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="+")
    doc_type = models.CharField(max_length=20, choices=DocType.choices)
    prefix = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "doc_type"], name="number_prefix_unique")
        ]


class NumberSequence(models.Model):
    """The last number issued for (unit, prefix, year). Locked with
    ``select_for_update`` while a number is taken; never decremented."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "prefix", "year"], name="number_sequence_unique"
            )
        ]


class NumberAssignment(models.Model):
    """Every number ever issued, once: the ledger that proves no number was issued
    twice (a voided number keeps its row, with ``voided_at`` set)."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    value = models.PositiveIntegerField()
    doc_number = models.CharField(max_length=60)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="number_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "prefix", "year", "value"], name="number_assignment_unique"
            )
        ]


class NumberVoid(models.Model):
    """A voided number (作废): recorded, never reused."""

    assignment = models.OneToOneField(
        NumberAssignment, on_delete=models.PROTECT, related_name="void"
    )
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="number_voids")
    doc_number = models.CharField(max_length=60)
    reason = models.CharField(max_length=500)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class RenderedPdf(models.Model):
    """One rendering of a document in the GB/T 9704 layout (docs/rendering.md#storage).

    ``version`` counts the distinct renderings of a document (1, 2, …); rendering again
    when the PDF would be byte-identical to the latest one adds no row. The file lives
    under GOVDESK_RENDER_DIR at ``path`` (relative, named by its SHA-256); ``meta`` is the
    layout metadata: page count and the seal box (page index, PDF points)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="renderings")
    version = models.PositiveIntegerField()
    document_version = models.PositiveIntegerField(help_text="Document.version rendered")
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    meta = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "version"], name="rendered_pdf_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"rendering {self.version} of document {self.document_id}"


class HandwrittenInstruction(models.Model):
    """A leader's handwritten instruction (批示) on a document (docs/instructions.md).

    The handwriting is a PNG re-encoded by Pillow (metadata stripped), stored under
    GOVDESK_VAR_DIR/instructions at ``path`` (relative, named by its SHA-256); it is drawn
    on the instruction sheet (批示单), never on the signed body."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="instructions")
    task = models.ForeignKey(
        "workflow.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opinion = models.TextField(blank=True, default="")
    path = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["document", "id"], name="instruction_doc_idx")]

    def __str__(self) -> str:
        return f"instruction {self.pk} on document {self.document_id}"
