"""Every state change of internal mail: drafts, send, deliver, read, recall, filing,
attachments, folders and saved groups. Docs: docs/mail.md.

Each function is one transaction that locks what it changes and records its audit
event in it; refusals that hide (404) are recorded durably first. A send stores one
``Mail`` and, in the same transaction, the sender's copy and — for up to
GOVDESK_MAIL_INLINE_FANOUT people — every recipient's entry and in-app notification,
so nothing is lost between send and delivery. A larger send commits with
``fanout_done=False`` and enqueues ``api.mail.tasks.deliver`` after commit; that task
(and the beat sweep that re-runs unfinished ones) creates the missing entries only:
``(mail, owner)`` is unique and the notification's dedup key is ``mail:<id>``, so a
mail is never delivered twice. A send repeated with the same Idempotency-Key returns
the first mail (``Mail.idempotency_key`` is unique per sender).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from api.accounts.models import User
from api.audit.recorder import record, record_denied
from api.common.enqueue import enqueue_after_commit
from api.common.errors import ApiError, Conflict, NotFound
from api.common.i18n import not_found_ids, t
from api.common.search import search_document
from api.documents import attachments as files
from api.mail import addresses as addressing
from api.mail.models import (
    Attachment,
    Box,
    Entry,
    Folder,
    Group,
    Mail,
    MailFile,
    MailState,
    Role,
)
from api.notify.actions import Pending, notify_many
from api.notify.models import Kind, Notification

MAX_SUBJECT = 200
MAX_BODY = 200_000
MAX_FILES = 20
CHUNK = 500


@dataclass
class Compose:
    """What the sender wrote (a draft or a mail to send)."""

    subject: str = ""
    body: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    files: list[int] = field(default_factory=list)
    urgent: bool = False
    in_reply_to: int | None = None  # an entry id of the sender's (reply, reply-all, forward)


# --- quota ----------------------------------------------------------------------------------


def quota_used(user: User) -> int:
    """Bytes the user stores: files they uploaded (not released) and the bodies of the
    mail they wrote that their own copy still holds (not purged)."""
    uploaded = (
        MailFile.objects.filter(uploaded_by=user, released_at__isnull=True).aggregate(
            s=Sum("size")
        )["s"]
        or 0
    )
    written = (
        Mail.objects.filter(
            sender=user, entries__role=Role.FROM, entries__purged_at__isnull=True
        ).aggregate(s=Sum("size"))["s"]
        or 0
    )
    return int(uploaded) + int(written)


def _check_quota(user: User, adding: int) -> None:
    limit = settings.GOVDESK_MAIL_QUOTA_BYTES
    used = quota_used(user)
    if used + adding > limit:
        raise ApiError(
            "mail_quota_exceeded",
            t(
                "邮箱空间已满，请清理已删除邮件或附件后再试。",
                "Your mailbox is full; empty the trash or remove files first.",
            ),
            status_code=413,
            extra={"quota_bytes": limit, "used_bytes": used},
        )


# --- compose --------------------------------------------------------------------------------


def _clean(user: User, compose: Compose) -> tuple[list[dict], list[MailFile], Entry | None]:
    if len(compose.subject) > MAX_SUBJECT or len(compose.body) > MAX_BODY:
        raise ApiError(
            "validation_error",
            fields={"body": [t("主题或正文过长。", "The subject or body is too long.")]},
        )
    parsed = addressing.parse(user, {"to": compose.to, "cc": compose.cc, "bcc": compose.bcc})
    wanted = list(dict.fromkeys(compose.files))
    if len(wanted) > MAX_FILES:
        raise ApiError(
            "validation_error",
            fields={"files": [t(f"附件最多 {MAX_FILES} 个。", f"At most {MAX_FILES} files.")]},
        )
    usable = {f.pk: f for f in files_usable_by(user).filter(pk__in=wanted)}
    missing = [i for i in wanted if i not in usable]
    if missing:
        raise ApiError("validation_error", fields={"files": [not_found_ids(missing)]})
    parent = None
    if compose.in_reply_to is not None:
        parent = (
            Entry.objects.filter(
                pk=compose.in_reply_to, owner=user, purged_at__isnull=True, recalled_at__isnull=True
            )
            .select_related("mail")
            .first()
        )
        if parent is None:
            raise ApiError(
                "validation_error", fields={"in_reply_to": [t("邮件不存在。", "No such mail.")]}
            )
    return parsed, [usable[i] for i in wanted], parent


def files_usable_by(user: User):
    """Files the user may attach: their own uploads and files of mail they hold
    (forwarding keeps the attachments)."""
    from django.db.models import Q

    held = Attachment.objects.filter(
        mail__entries__owner=user,
        mail__entries__purged_at__isnull=True,
        mail__entries__recalled_at__isnull=True,
    ).values("file_id")
    return MailFile.objects.filter(Q(uploaded_by=user) | Q(pk__in=held))


def _search_text(mail: Mail, attached: list[MailFile]) -> str:
    """The search document (api/common/search.py: jieba tokens, lower-cased)."""
    return search_document(
        mail.subject, mail.body, *(f.name for f in attached), *(f.text for f in attached)
    )


def _write_body(
    mail: Mail, compose: Compose, parsed: list[dict], attached: list[MailFile], parent: Entry | None
) -> None:
    mail.subject = compose.subject.strip()
    mail.body = compose.body
    mail.addresses = parsed
    mail.urgent = compose.urgent
    mail.size = len(compose.body.encode()) + len(mail.subject.encode())
    if parent is not None:
        mail.in_reply_to = parent.mail
        mail.thread_id = parent.mail.thread_id or parent.mail.pk
    mail.search_text = _search_text(mail, attached)
    mail.updated_at = timezone.now()


def _set_files(mail: Mail, attached: list[MailFile]) -> None:
    Attachment.objects.filter(mail=mail).delete()
    Attachment.objects.bulk_create(
        [Attachment(mail=mail, file=f, position=i) for i, f in enumerate(attached)]
    )


def save_draft(user: User, compose: Compose, draft_id: int | None = None) -> Entry:
    """Create or update a draft (the sender's entry in ``drafts``)."""
    parsed, attached, parent = _clean(user, compose)
    adding = len(compose.body.encode()) + len(compose.subject.encode())
    with transaction.atomic():
        if draft_id is None:
            _check_quota(user, adding)
            mail = Mail(sender=user)
            _write_body(mail, compose, parsed, attached, parent)
            mail.save()
            entry = Entry.objects.create(mail=mail, owner=user, role=Role.FROM, box=Box.DRAFTS)
        else:
            entry = _own_draft(user, draft_id)
            mail = entry.mail
            _check_quota(user, adding - mail.size)
            _write_body(mail, compose, parsed, attached, parent)
            mail.save()
        _set_files(mail, attached)
        record("mail.draft_saved", actor=user, obj=mail, detail={"files": len(attached)})
    return entry


def _own_draft(user: User, entry_id: int) -> Entry:
    entry = (
        Entry.objects.select_for_update()
        .select_related("mail")
        .filter(pk=entry_id, owner=user, role=Role.FROM, purged_at__isnull=True)
        .first()
    )
    if entry is None:
        raise NotFound()
    if entry.mail.state != MailState.DRAFT:
        raise Conflict("mail_not_draft", t("该邮件已发送。", "This mail has been sent."))
    return entry


def send(
    user: User, compose: Compose, *, draft_id: int | None = None, idempotency_key: str | None = None
) -> Entry:
    """Send a mail (a new one, or a draft). Returns the sender's entry."""
    if idempotency_key:
        existing = _sent_with_key(user, idempotency_key)
        if existing is not None:
            return existing
    parsed, attached, parent = _clean(user, compose)
    if not any(a["role"] in ("to", "cc", "bcc") for a in parsed):
        raise ApiError(
            "validation_error",
            fields={"to": [t("请至少填写一个收件人。", "Add at least one recipient.")]},
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            if draft_id is not None:
                entry = _own_draft(user, draft_id)
                mail = entry.mail
                _check_quota(user, len(compose.body.encode()) - mail.size)
            else:
                _check_quota(user, len(compose.body.encode()))
                mail = Mail(sender=user)
                entry = None
            _write_body(mail, compose, parsed, attached, parent)
            mail.state = MailState.SENT
            mail.sent_at = now
            mail.idempotency_key = idempotency_key or None
            reached = addressing.expand(user, parsed)
            if not reached:
                raise ApiError(
                    "mail_no_recipients",
                    t(
                        "这些地址下没有可接收邮件的人员。",
                        "Nobody can receive mail at these addresses.",
                    ),
                    status_code=422,
                )
            mail.recipient_count = len(reached)
            inline = len(reached) <= settings.GOVDESK_MAIL_INLINE_FANOUT
            mail.fanout_done = inline
            mail.save()
            _set_files(mail, attached)
            if entry is None:
                entry = Entry.objects.create(
                    mail=mail, owner=user, role=Role.FROM, box=Box.SENT, read_at=now
                )
            else:
                entry.box = Box.SENT
                entry.read_at = now
                entry.save(update_fields=["box", "read_at"])
            if inline:
                _deliver_to(mail, reached, now)
            else:
                enqueue_after_commit("api.mail.tasks.deliver", mail.pk)
            record(
                "mail.sent",
                actor=user,
                obj=mail,
                detail={
                    "recipients": len(reached),
                    "addresses": len(parsed),
                    "files": len(attached),
                    "urgent": mail.urgent,
                    "inline": inline,
                },
            )
    except IntegrityError:
        # The same Idempotency-Key sent concurrently: the other request won.
        if idempotency_key:
            existing = _sent_with_key(user, idempotency_key)
            if existing is not None:
                return existing
        raise
    return entry


def _sent_with_key(user: User, key: str) -> Entry | None:
    return (
        Entry.objects.filter(mail__sender=user, mail__idempotency_key=key, role=Role.FROM)
        .select_related("mail")
        .first()
    )


def _deliver_to(mail: Mail, reached: dict[int, str], now: Any) -> int:
    """Create the missing recipient entries and their notifications (idempotent)."""
    have = set(
        Entry.objects.filter(mail=mail).exclude(role=Role.FROM).values_list("owner_id", flat=True)
    )
    fresh = [(uid, role) for uid, role in reached.items() if uid not in have]
    created = 0
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start : start + CHUNK]
        Entry.objects.bulk_create(
            [
                Entry(mail=mail, owner_id=uid, role=role, box=Box.INBOX, created_at=now)
                for uid, role in chunk
            ],
            ignore_conflicts=True,
        )
        people = User.objects.filter(pk__in=[uid for uid, _r in chunk]).only("pk")
        sender_name = mail.sender.display_name
        notify_many(
            [
                Pending(
                    recipient=person,
                    kind=Kind.SYSTEM,
                    title=("【紧急】" if mail.urgent else "")
                    + f"新邮件：{mail.subject or '（无主题）'}"[:180],
                    body=f"{sender_name} 发来邮件",
                    urgency="high" if mail.urgent else "low",
                    dedup_key=f"mail:{mail.pk}",
                )
                for person in people
            ],
            now=now,
        )
        created += len(chunk)
    return created


def deliver(mail_id: int) -> int:
    """The fan-out of a large send (the task and the sweep call it; safe to run twice)."""
    with transaction.atomic():
        mail = Mail.objects.select_for_update().select_related("sender").filter(pk=mail_id).first()
        if mail is None or mail.fanout_done or mail.state != MailState.SENT:
            return 0
        reached = addressing.expand(mail.sender, mail.addresses)
        created = _deliver_to(mail, reached, timezone.now())
        mail.fanout_done = True
        mail.recipient_count = len(reached)
        mail.save(update_fields=["fanout_done", "recipient_count"])
        record(
            "mail.delivered",
            actor_username="worker",
            obj=mail,
            unit_id=mail.sender.unit_id,
            detail={"created": created},
        )
    return created


# --- reading, recall -----------------------------------------------------------------------


def _own_entry(user: User, entry_id: int, action: str, *, lock: bool = True) -> Entry:
    queryset = Entry.objects.select_related("mail").filter(
        pk=entry_id, owner=user, purged_at__isnull=True
    )
    entry = (queryset.select_for_update(of=("self",)) if lock else queryset).first()
    if entry is None:
        raise NotFound()
    return entry


def _check_exists(user: User, entry_id: int, action: str) -> None:
    if not Entry.objects.filter(pk=entry_id, owner=user, purged_at__isnull=True).exists():
        record_denied(action, actor=user, object_type="mail.entry", object_id=entry_id)
        raise NotFound()


def mark_read(user: User, entry_id: int) -> Entry:
    _check_exists(user, entry_id, "mail.read")
    with transaction.atomic():
        entry = _own_entry(user, entry_id, "mail.read")
        if entry.recalled_at is not None:
            raise Conflict(
                "mail_recalled", t("发件人已撤回该邮件。", "The sender recalled this mail.")
            )
        if entry.read_at is None:
            entry.read_at = timezone.now()
            entry.save(update_fields=["read_at"])
            Notification.objects.filter(
                recipient=user, dedup_key=f"mail:{entry.mail_id}", read_at__isnull=True
            ).update(read_at=entry.read_at)
            record("mail.read", actor=user, obj=entry.mail, detail={"entry": entry.pk})
    return entry


def recall(user: User, entry_id: int) -> dict[str, int]:
    """Recall (撤回) a sent mail from every recipient who has not read it. Those who
    read it keep it; the unread ones see a trace that it was recalled, not its
    content. 409 when it is still being delivered or everyone has read it."""
    _check_exists(user, entry_id, "mail.recall")
    with transaction.atomic():
        entry = _own_entry(user, entry_id, "mail.recall")
        if entry.role != Role.FROM or entry.mail.state != MailState.SENT:
            raise Conflict(
                "mail_not_recallable",
                t("只能撤回自己已发送的邮件。", "Only a mail you sent can be recalled."),
            )
        mail = Mail.objects.select_for_update().get(pk=entry.mail_id)
        if not mail.fanout_done:
            raise Conflict(
                "mail_delivering",
                t(
                    "邮件正在投递，请稍后再撤回。",
                    "The mail is still being delivered; try again shortly.",
                ),
            )
        now = timezone.now()
        unread = Entry.objects.filter(
            mail=mail, read_at__isnull=True, recalled_at__isnull=True
        ).exclude(role=Role.FROM)
        owners = list(unread.values_list("owner_id", flat=True))
        if not owners:
            raise Conflict(
                "mail_nothing_to_recall",
                t(
                    "所有收件人都已阅读，无法撤回。",
                    "Every recipient has read it; nothing to recall.",
                ),
            )
        recalled = unread.update(recalled_at=now)
        Notification.objects.filter(
            recipient_id__in=owners, dedup_key=f"mail:{mail.pk}", read_at__isnull=True
        ).update(read_at=now)
        read = (
            Entry.objects.filter(mail=mail, read_at__isnull=False).exclude(role=Role.FROM).count()
        )
        mail.recalled_at = now
        mail.save(update_fields=["recalled_at"])
        record(
            "mail.recalled",
            actor=user,
            obj=mail,
            detail={"recalled": recalled, "already_read": read},
        )
    return {"recalled": recalled, "already_read": read}


# --- filing ---------------------------------------------------------------------------------


def _folder_of(user: User, folder: str) -> tuple[str, Folder | None]:
    if folder in (Box.INBOX, Box.TRASH):
        return folder, None
    if folder.isdigit():
        found = Folder.objects.filter(pk=int(folder), owner=user).first()
        if found is not None:
            return Box.CUSTOM, found
    raise ApiError("validation_error", fields={"folder": [t("文件夹不存在。", "No such folder.")]})


def move(user: User, entry_id: int, folder: str) -> Entry:
    """File a mail: ``inbox``, ``trash`` or a custom folder's id. A sent copy or a
    draft moved out of the trash goes back where it was."""
    _check_exists(user, entry_id, "mail.move")
    box, target = _folder_of(user, folder)
    with transaction.atomic():
        entry = _own_entry(user, entry_id, "mail.move")
        if box == Box.TRASH:
            if entry.box != Box.TRASH:
                entry.box_before_trash = entry.box
        elif box == Box.INBOX and entry.role == Role.FROM:
            box = entry.box_before_trash or (
                Box.SENT if entry.mail.state == MailState.SENT else Box.DRAFTS
            )
        elif box == Box.CUSTOM and entry.mail.state == MailState.DRAFT:
            raise Conflict("mail_not_sent", t("草稿不能放入文件夹。", "A draft cannot be filed."))
        entry.box = box
        entry.folder = target
        entry.save(update_fields=["box", "folder", "box_before_trash"])
        record("mail.moved", actor=user, obj=entry.mail, detail={"entry": entry.pk, "box": box})
    return entry


def star(user: User, entry_id: int, starred: bool) -> Entry:
    _check_exists(user, entry_id, "mail.star")
    with transaction.atomic():
        entry = _own_entry(user, entry_id, "mail.star")
        entry.starred = starred
        entry.save(update_fields=["starred"])
        record(
            "mail.starred",
            actor=user,
            obj=entry.mail,
            detail={"entry": entry.pk, "starred": starred},
        )
    return entry


def purge(user: User, entry_id: int) -> None:
    """Delete for good: a draft at once, anything else only from the trash. The
    sender's purge releases the body and the files they uploaded for it from their
    quota (recipients keep their copies)."""
    _check_exists(user, entry_id, "mail.purge")
    with transaction.atomic():
        entry = _own_entry(user, entry_id, "mail.purge")
        mail = entry.mail
        if mail.state != MailState.DRAFT and entry.box != Box.TRASH:
            raise Conflict(
                "mail_not_in_trash",
                t("请先将邮件移到已删除。", "Move the mail to the trash first."),
            )
        now = timezone.now()
        entry.purged_at = now
        entry.save(update_fields=["purged_at"])
        if entry.role == Role.FROM:
            MailFile.objects.filter(
                attachments__mail=mail, uploaded_by=user, released_at__isnull=True
            ).update(released_at=now)
        record("mail.purged", actor=user, obj=mail, detail={"entry": entry.pk})


# --- attachments ----------------------------------------------------------------------------


def upload(user: User, uploaded: UploadedFile) -> MailFile:
    """Store an attachment after the same checks as a document's (size, content type
    from the bytes, extension agreeing) and the user's quota."""
    name = files.clean_name(uploaded.name or "")
    size = uploaded.size or 0
    limit = settings.GOVDESK_MAIL_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise ApiError("attachment_too_large", status_code=413, extra={"max_bytes": limit})
    if not name or size == 0:
        raise ApiError(
            "validation_error",
            fields={"file": [t("文件为空或没有文件名。", "The file is empty or has no name.")]},
        )
    uploaded.seek(0)
    file_type = files.detect(uploaded.file, size) if uploaded.file is not None else None
    extension = files.extension_of(name)
    if file_type is None or extension not in file_type.extensions:
        raise ApiError(
            "attachment_type_refused",
            status_code=415,
            extra={"detected": file_type.kind if file_type else None, "extension": extension},
        )
    _check_quota(user, size)
    text = _extract_text(uploaded, file_type)
    uploaded.seek(0)
    key, sha256, stored = files.store(uploaded.chunks())
    try:
        with transaction.atomic():
            mail_file = MailFile.objects.create(
                uploaded_by=user,
                name=name,
                kind=file_type.kind,
                content_type=file_type.content_type,
                size=stored,
                sha256=sha256,
                storage_key=key,
                text=text,
            )
            record(
                "mail.file_uploaded",
                actor=user,
                object_type="mail.file",
                object_id=mail_file.pk,
                detail={"name": name, "kind": file_type.kind, "size": stored, "sha256": sha256},
            )
    except BaseException:
        files.discard(key)
        raise
    return mail_file


MAX_TEXT = 200_000
_XML_TAG = re.compile(r"<[^>]+>")


def _extract_text(uploaded: UploadedFile, file_type: files.FileType) -> str:
    """The searchable text of a plain-text or Word (DOCX) attachment; other kinds are
    found by their name only. Never raises: a file that cannot be read has no text."""
    try:
        uploaded.seek(0)
        if file_type.kind == "text":
            encoding = "gb18030" if "gb18030" in file_type.content_type else "utf-8"
            return uploaded.read(MAX_TEXT).decode(encoding, errors="ignore")
        if file_type.kind == "docx":
            with zipfile.ZipFile(uploaded.file) as archive:  # type: ignore[arg-type]
                info = archive.getinfo("word/document.xml")
                if info.file_size > 20 * MAX_TEXT:
                    return ""
                xml = archive.read(info).decode("utf-8", errors="ignore")
            return _XML_TAG.sub(" ", xml.replace("</w:p>", "\n"))[:MAX_TEXT]
    except Exception:  # a malformed file is stored, just not searchable by content
        return ""
    finally:
        uploaded.seek(0)
    return ""


# --- folders and groups ---------------------------------------------------------------------


def create_folder(user: User, name: str) -> Folder:
    name = name.strip()
    if not name or len(name) > 40:
        raise ApiError(
            "validation_error", fields={"name": [t("名称为 1–40 个字符。", "1–40 characters.")]}
        )
    with transaction.atomic():
        if Folder.objects.filter(owner=user, name=name).exists():
            raise Conflict(
                "mail_folder_exists", t("已有同名文件夹。", "A folder with that name exists.")
            )
        folder = Folder.objects.create(owner=user, name=name)
        record("mail.folder_created", actor=user, object_type="mail.folder", object_id=folder.pk)
    return folder


def delete_folder(user: User, folder_id: int) -> None:
    """Delete a folder; its mail goes back to the inbox (or sent, for one's own)."""
    with transaction.atomic():
        folder = Folder.objects.select_for_update().filter(pk=folder_id, owner=user).first()
        if folder is None:
            raise NotFound()
        Entry.objects.filter(folder=folder, role=Role.FROM).update(box=Box.SENT, folder=None)
        Entry.objects.filter(folder=folder).update(box=Box.INBOX, folder=None)
        record("mail.folder_deleted", actor=user, object_type="mail.folder", object_id=folder_id)
        folder.delete()


def save_group(user: User, name: str, members: list[str]) -> Group:
    name = name.strip()
    if not name or len(name) > 60:
        raise ApiError(
            "validation_error", fields={"name": [t("名称为 1–60 个字符。", "1–60 characters.")]}
        )
    parsed = addressing.parse_group_members(user, members)
    with transaction.atomic():
        group, _created = Group.objects.select_for_update().get_or_create(owner=user, name=name)
        group.members = parsed
        group.save(update_fields=["members"])
        record(
            "mail.group_saved",
            actor=user,
            object_type="mail.group",
            object_id=group.pk,
            detail={"members": len(parsed)},
        )
    return group


def delete_group(user: User, group_id: int) -> None:
    with transaction.atomic():
        group = Group.objects.select_for_update().filter(pk=group_id, owner=user).first()
        if group is None:
            raise NotFound()
        record("mail.group_deleted", actor=user, object_type="mail.group", object_id=group_id)
        group.delete()
