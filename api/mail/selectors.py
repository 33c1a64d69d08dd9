"""Read side of internal mail: mailbox lists, one mail as its reader may see it,
receipts, threads, search. Docs: docs/mail.md.

What a person sees of a mail: the sender sees everything (bcc included) and the
per-recipient receipts; a recipient sees the to and cc addresses, never bcc, and
never who else received it through a bcc; a recalled copy shows that it was
recalled, not its content.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.search import matching
from api.mail.models import Box, Entry, Folder, Mail, MailFile, Role

SYSTEM_FOLDERS = ("inbox", "sent", "drafts", "trash", "starred")


def mailbox(user: User, folder: str) -> QuerySet[Entry]:
    """A folder's entries, newest first (``-id``; the index mail_entry_box_idx)."""
    entries = Entry.objects.filter(owner=user, purged_at__isnull=True).select_related(
        "mail", "mail__sender", "mail__sender__unit"
    )
    if folder == "starred":
        return entries.filter(starred=True).exclude(box=Box.TRASH)
    if folder in SYSTEM_FOLDERS:
        return entries.filter(box=folder)
    if folder.isdigit() and Folder.objects.filter(pk=int(folder), owner=user).exists():
        return entries.filter(box=Box.CUSTOM, folder_id=int(folder))
    raise ApiError("validation_error", fields={"folder": [t("文件夹不存在。", "No such folder.")]})


def entry_or_404(user: User, entry_id: int) -> Entry:
    entry = (
        Entry.objects.select_related("mail", "mail__sender", "mail__sender__unit")
        .filter(pk=entry_id, owner=user, purged_at__isnull=True)
        .first()
    )
    if entry is None:
        record_denied("mail.view", actor=user, object_type="mail.entry", object_id=entry_id)
        raise NotFound()
    return entry


def visible_addresses(entry: Entry) -> list[dict[str, Any]]:
    """The addresses as this reader may see them: bcc only on the sender's copy."""
    addresses = entry.mail.addresses or []
    if entry.role == Role.FROM:
        return list(addresses)
    return [a for a in addresses if a.get("role") != "bcc"]


def receipts(entry: Entry) -> QuerySet[Entry]:
    """Per-recipient read status, for the sender's copy only (404 otherwise)."""
    if entry.role != Role.FROM:
        record_denied(
            "mail.receipts", actor=entry.owner, object_type="mail.entry", object_id=entry.pk
        )
        raise NotFound()
    return (
        Entry.objects.filter(mail_id=entry.mail_id)
        .exclude(role=Role.FROM)
        .select_related("owner", "owner__unit")
    )


def thread(user: User, thread_id: int) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(owner=user, purged_at__isnull=True)
        .filter(Q(mail_id=thread_id) | Q(mail__thread_id=thread_id))
        .exclude(box=Box.DRAFTS)
        .select_related("mail", "mail__sender", "mail__sender__unit")
    )


def attachments_of(entry: Entry) -> list[MailFile]:
    if entry.recalled_at is not None:
        return []
    return [a.file for a in entry.mail.attachments.select_related("file").all()]


def file_or_404(user: User, file_id: int) -> MailFile:
    """A file its uploader or a holder of a (not recalled) mail with it may read."""
    found = (
        MailFile.objects.filter(pk=file_id)
        .filter(
            Q(uploaded_by=user)
            | Q(
                attachments__mail__entries__owner=user,
                attachments__mail__entries__purged_at__isnull=True,
                attachments__mail__entries__recalled_at__isnull=True,
            )
        )
        .first()
    )
    if found is None:
        record_denied("mail.file_view", actor=user, object_type="mail.file", object_id=file_id)
        raise NotFound()
    return found


# --- search -------------------------------------------------------------------------------


def text_matches(queryset: QuerySet[Entry], query: str) -> QuerySet[Entry]:
    """The one place mail search is done, through the shared Chinese search helper
    (api/common/search.py): the entries of ``queryset`` whose mail's search document
    (subject, body, attachment names and text: ``Mail.search_text``) holds every
    jieba word of ``query``, best first (relevance blended with the mail's date,
    ``Mail.updated_at``: written or sent), newest first on ties.

    The helper ranks the mails; the entries follow their mail's place (``search_order``),
    so ranking is on the newest ``CANDIDATES`` matching mails the entries hold."""
    mails = matching(
        Mail.objects.filter(pk__in=queryset.values("mail_id")), query, date_field="updated_at"
    )
    ranked = list(mails.values_list("pk", flat=True))
    if not ranked:
        return queryset.none()
    order = Case(
        *(When(mail_id=pk, then=Value(place)) for place, pk in enumerate(ranked)),
        output_field=IntegerField(),
    )
    return (
        queryset.filter(mail_id__in=ranked)
        .annotate(search_order=order)
        .order_by("search_order", "-id")
    )


def search(user: User, query: str) -> QuerySet[Entry]:
    """The user's entries (not purged, not recalled, no drafts of others) matching."""
    entries = Entry.objects.filter(
        owner=user, purged_at__isnull=True, recalled_at__isnull=True
    ).select_related("mail", "mail__sender", "mail__sender__unit")
    return text_matches(entries, query)
