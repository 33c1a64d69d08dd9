"""Information publishing (信息管理): channels, posts, their audience, versions,
attachments, read receipts and the unit publishers. Docs: docs/publishing.md.

Rows change only in api/publishing/actions/. A post's audience is stored twice: as the
editable description ``Post.audience`` ({"kind", "unit_ids", "roles"}) and as
``PostAudience`` keys ("city", "u:<unit>", "t:<unit>", "r:<role>") that a reader's own
keys are matched against in one indexed EXISTS — so "posts I may see" costs the same
number of queries whatever the number of units (docs/publishing.md#audience).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class FeedFormat(models.TextChoices):
    RSS = "rss", "RSS"
    JSON = "json", "JSON"


class Channel(models.Model):
    """A column of posts (栏目). ``unit`` null: city-wide (any unit may post into it);
    otherwise only that unit's people post into it. ``read_only`` channels are filled
    by the import connector from ``feed_url`` and take no manual posts."""

    name = models.CharField(max_length=60)
    code = models.SlugField(max_length=40, unique=True)
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=200, blank=True)
    read_only = models.BooleanField(default=False)
    feed_url = models.URLField(max_length=500, blank=True)
    feed_format = models.CharField(max_length=8, choices=FeedFormat.choices, blank=True)
    feed_audience = models.JSONField(default=dict, blank=True)
    last_import_at = models.DateTimeField(null=True, blank=True)
    last_import_note = models.CharField(max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class PostState(models.TextChoices):
    DRAFT = "draft", "草稿"
    PENDING = "pending", "待审核"
    RETURNED = "returned", "已退回"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤稿"


class AudienceKind(models.TextChoices):
    CITY = "city", "全市"
    SUBTREE = "subtree", "本单位及下级"
    UNITS = "units", "指定单位"
    ROLES = "roles", "指定角色"


class Post(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.JSONField(default=list, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    author_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=PostState.choices, default=PostState.DRAFT)
    audience = models.JSONField(default=dict)
    must_read = models.BooleanField(default=False)
    read_deadline = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    pinned = models.BooleanField(default=False)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="leaves the portal then")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_opinion = models.CharField(max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    cover_key = models.CharField(max_length=80, blank=True)
    cover_thumb_key = models.CharField(max_length=80, blank=True)
    source_id = models.CharField(max_length=200, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    search_text = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["channel", "-published_at", "-id"],
                condition=Q(state="published"),
                name="post_channel_published_idx",
            ),
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(state="published"),
                name="post_published_idx",
            ),
            models.Index(
                fields=["channel", "-published_at", "-id"],
                condition=Q(state="published", pinned=True),
                name="post_channel_pinned_idx",
            ),
            models.Index(fields=["author_unit", "state", "-id"], name="post_unit_state_idx"),
            models.Index(
                fields=["read_deadline"],
                condition=Q(must_read=True, state="published", reminded_at__isnull=True),
                name="post_remind_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_id"],
                condition=~Q(source_id=""),
                name="post_unique_source_id",
            )
        ]

    def __str__(self) -> str:
        return f"post {self.pk} {self.title}"


class PostAudience(models.Model):
    """One key of a post's audience (see the module docstring)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="audience_keys")
    key = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "key"], name="post_audience_unique")]
        indexes = [models.Index(fields=["key", "post"], name="post_audience_key_idx")]


class PostVersion(models.Model):
    """The post as it was before an edit made after publishing (or a re-submission)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["post", "version"], name="post_version_unique")
        ]


class PostAttachment(models.Model):
    """A file of a post, stored by api/documents/attachments (the same content checks).
    ``text`` is what search indexes of it (plain text, DOCX paragraphs, PDF text)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=80, unique=True)
    text = models.TextField(blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class ReadReceipt(models.Model):
    """Who has read a must-read post (必读). One row per person of the audience,
    written when it is published (``read_at`` null = not read yet); a reader who joined
    the audience later gets a row when they read it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="read_receipt_unique")]
        indexes = [
            models.Index(fields=["post", "unit"], name="read_receipt_unit_idx"),
            models.Index(
                fields=["user", "post"],
                condition=Q(read_at__isnull=True),
                name="read_receipt_unread_idx",
            ),
        ]


class Publisher(models.Model):
    """A unit's publisher (信息审核员): reviews and publishes the unit's posts. A unit
    admin of the unit is a publisher too without a row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="publisher_unique")]
