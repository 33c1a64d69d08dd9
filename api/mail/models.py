"""Internal mail (内部邮件): one stored mail per send, one mailbox entry per person who
holds it (the sender's own copy and each recipient's), files, folders, saved groups.

Docs: docs/mail.md. A send to 1,000 people stores one ``Mail`` (subject, body,
addresses) and 1,000 small ``Entry`` rows; ``(mail, owner)`` is unique for the
recipients' entries, so a delivery that runs twice cannot deliver twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MailState(models.TextChoices):
    DRAFT = "draft", "草稿"
    SENT = "sent", "已发送"


class Mail(models.Model):
    """The one stored copy of a mail. ``addresses`` keeps what the sender wrote, in
    order: ``[{"role": "to"|"cc"|"bcc", "kind": "user"|"unit"|"group", "id": 1,
    "scope": "all"|"clerks", "label": "…"}]``; bcc entries are shown to the sender only.
    ``fanout_done`` is False until every addressee has an entry (large sends fan out
    in a task; the beat sweep finishes any that a lost message left behind)."""

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sent_mail"
    )
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    addresses = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=8, choices=MailState.choices, default=MailState.DRAFT)
    urgent = models.BooleanField(default=False)
    thread = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001 - NULL: no key (unique when set)
    search_text = models.TextField(blank=True, help_text="subject, body and files' text")
    size = models.BigIntegerField(default=0, help_text="bytes of the body")
    recipient_count = models.PositiveIntegerField(default=0)
    fanout_done = models.BooleanField(default=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="mail_unique_idempotency_key",
            )
        ]
        indexes = [
            models.Index(
                fields=["sent_at"], condition=Q(fanout_done=False), name="mail_fanout_pending_idx"
            )
        ]


class Role(models.TextChoices):
    FROM = "from", "发件人"
    TO = "to", "收件人"
    CC = "cc", "抄送"
    BCC = "bcc", "密送"


class Box(models.TextChoices):
    INBOX = "inbox", "收件箱"
    SENT = "sent", "已发送"
    DRAFTS = "drafts", "草稿箱"
    TRASH = "trash", "已删除"
    CUSTOM = "custom", "自定义文件夹"


class Folder(models.Model):
    """A user's own folder."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_folders"
    )
    name = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="mail_folder_unique_name")
        ]


class Entry(models.Model):
    """One person's copy of a mail: where it is filed, read, starred, recalled.
    The sender's copy has role ``from``; a person is a recipient at most once (the
    strongest of to, cc, bcc)."""

    mail = models.ForeignKey(Mail, on_delete=models.CASCADE, related_name="entries")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_entries"
    )
    role = models.CharField(max_length=4, choices=Role.choices)
    box = models.CharField(max_length=8, choices=Box.choices)
    folder = models.ForeignKey(
        Folder, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    # Where it was before the trash, so "restore" puts it back.
    box_before_trash = models.CharField(max_length=8, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    starred = models.BooleanField(default=False)
    recalled_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mail", "owner"],
                condition=~Q(role="from"),
                name="mail_entry_one_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["mail"], condition=Q(role="from"), name="mail_entry_one_sender_copy"
            ),
        ]
        indexes = [
            models.Index(
                fields=["owner", "box", "-id"],
                condition=Q(purged_at__isnull=True),
                name="mail_entry_box_idx",
            ),
            models.Index(fields=["mail", "role"], name="mail_entry_mail_idx"),
        ]


class MailFile(models.Model):
    """An uploaded attachment, stored through api/documents/attachments.py.
    ``released_at``: no longer counted in the uploader's quota."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mail_files"
    )
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)
    content_type = models.CharField(max_length=120)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=64, unique=True)
    text = models.TextField(blank=True, help_text="extracted text for search (plain text files)")
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class Attachment(models.Model):
    mail = models.ForeignKey(Mail, on_delete=models.CASCADE, related_name="attachments")
    file = models.ForeignKey(MailFile, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["mail", "file"], name="mail_attachment_unique")
        ]


class Group(models.Model):
    """A saved address group: people and units (``members`` like ``Mail.addresses``
    without the role)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_groups"
    )
    name = models.CharField(max_length=60)
    members = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="mail_group_unique_name")
        ]
