"""Request and response shapes of the mail API. Docs: docs/mail.md#api."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.common.serializers import StrictSerializer
from api.mail import selectors
from api.mail.models import Entry, Folder, Group, MailFile, Role

ADDRESS_HELP = "user:<id> · unit:<id> (its clerks) · unit:<id>:all · group:<id>"


class MailComposeSerializer(StrictSerializer):
    subject = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    body = serializers.CharField(
        max_length=200_000,
        allow_blank=True,
        required=False,
        default="",
        trim_whitespace=False,
        help_text="plain text; stored and returned as text, never as HTML",
    )
    to = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        default=list,
        help_text=ADDRESS_HELP,
    )
    cc = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )
    bcc = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        default=list,
        help_text="shown to the sender only",
    )
    files = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
    )
    urgent = serializers.BooleanField(
        required=False, default=False, help_text="SMS on the ladder if unread"
    )
    in_reply_to = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="your entry id of the mail replied to or forwarded (keeps the thread)",
    )


class MailSendSerializer(MailComposeSerializer):
    draft = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="send this draft (entry id) with these fields",
    )


class MailMoveSerializer(StrictSerializer):
    folder = serializers.CharField(max_length=24, help_text="inbox, trash or a custom folder id")


class MailStarSerializer(StrictSerializer):
    starred = serializers.BooleanField()


class MailEmptySerializer(StrictSerializer):
    pass


class MailNameSerializer(StrictSerializer):
    name = serializers.CharField(max_length=60)


class MailGroupWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=60)
    members = serializers.ListField(child=serializers.CharField(max_length=60), max_length=500)


class MailPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    unit = serializers.CharField()


class MailAddressSerializer(serializers.Serializer):
    role = serializers.CharField()
    kind = serializers.CharField()
    id = serializers.IntegerField()
    scope = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class MailFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class MailEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="your entry (copy) id")
    mail_id = serializers.IntegerField()
    thread_id = serializers.IntegerField()
    role = serializers.CharField(help_text="from, to, cc, bcc (your own role)")
    box = serializers.CharField()
    folder = serializers.IntegerField(allow_null=True)
    state = serializers.CharField()
    subject = serializers.CharField()
    sender = MailPersonSerializer()
    sent_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    starred = serializers.BooleanField()
    urgent = serializers.BooleanField()
    recalled = serializers.BooleanField(
        help_text="the sender recalled it from you (or, on the sender's copy, from the unread)"
    )
    recipient_count = serializers.IntegerField()


class MailEntryDetailSerializer(MailEntrySerializer):
    body = serializers.CharField()
    addresses = MailAddressSerializer(many=True)
    files = MailFileSerializer(many=True)
    in_reply_to = serializers.IntegerField(allow_null=True)


class MailEntryPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = MailEntrySerializer(many=True)


class MailReceiptSerializer(serializers.Serializer):
    recipient = MailPersonSerializer()
    role = serializers.CharField()
    read_at = serializers.DateTimeField(allow_null=True)
    recalled_at = serializers.DateTimeField(allow_null=True)


class MailReceiptPageSerializer(serializers.Serializer):
    read = serializers.IntegerField()
    unread = serializers.IntegerField()
    recalled = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = MailReceiptSerializer(many=True)


class MailRecallResultSerializer(serializers.Serializer):
    recalled = serializers.IntegerField()
    already_read = serializers.IntegerField()


class MailFolderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MailGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    members = MailAddressSerializer(many=True)


class MailFolderPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = MailFolderSerializer(many=True)


class MailGroupPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = MailGroupSerializer(many=True)


class MailQuotaSerializer(serializers.Serializer):
    quota_bytes = serializers.IntegerField()
    used_bytes = serializers.IntegerField()


def person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "display_name": user.display_name, "unit": user.unit.name}


def entry_item(entry: Entry) -> dict[str, Any]:
    mail = entry.mail
    hidden = entry.recalled_at is not None
    return {
        "id": entry.pk,
        "mail_id": mail.pk,
        "thread_id": mail.thread_id or mail.pk,
        "role": entry.role,
        "box": entry.box,
        "folder": entry.folder_id,
        "state": mail.state,
        "subject": "" if hidden else mail.subject,
        "sender": person(mail.sender),
        "sent_at": mail.sent_at,
        "read_at": entry.read_at,
        "starred": entry.starred,
        "urgent": mail.urgent,
        "recalled": hidden or (entry.role == Role.FROM and mail.recalled_at is not None),
        "recipient_count": mail.recipient_count if entry.role == Role.FROM else 0,
    }


def entry_detail(entry: Entry) -> dict[str, Any]:
    hidden = entry.recalled_at is not None
    return {
        **entry_item(entry),
        "body": "" if hidden else entry.mail.body,
        "addresses": [] if hidden else selectors.visible_addresses(entry),
        "files": [file_item(f) for f in selectors.attachments_of(entry)],
        "in_reply_to": entry.mail.in_reply_to_id,
    }


def file_item(mail_file: MailFile) -> dict[str, Any]:
    return {
        "id": mail_file.pk,
        "name": mail_file.name,
        "kind": mail_file.kind,
        "content_type": mail_file.content_type,
        "size": mail_file.size,
        "sha256": mail_file.sha256,
    }


def receipt_item(entry: Entry) -> dict[str, Any]:
    return {
        "recipient": person(entry.owner),
        "role": entry.role,
        "read_at": entry.read_at,
        "recalled_at": entry.recalled_at,
    }


def folder_item(folder: Folder) -> dict[str, Any]:
    return {"id": folder.pk, "name": folder.name}


def group_item(group: Group) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "members": [{"role": "to", **m} for m in group.members],
    }
