"""Request and response shapes of the documents API. Docs: docs/documents.md#endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.common.i18n import t
from api.common.serializers import StrictSerializer
from api.documents.fields import MAX_PARAGRAPH_CHARS
from api.documents.models import Attachment, Direction, DocType, Document, Urgency
from api.documents.selectors import live_attachments, permissions_for


class ParagraphSerializer(serializers.Serializer):
    """One paragraph; unknown keys are refused (reported under ``body``)."""

    level = serializers.IntegerField(
        min_value=0, max_value=4, help_text="0 plain paragraph; 1–4 headings 一、/（一）/1./（1）"
    )
    text = serializers.CharField(
        max_length=MAX_PARAGRAPH_CHARS, allow_blank=True, trim_whitespace=False
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - {"level", "text"})
            if unknown:
                raise serializers.ValidationError(
                    t("不允许的字段：", "Unknown fields: ") + ", ".join(map(str, unknown))
                )
        return super().to_internal_value(data)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    uploaded_by = UserRefSerializer()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "kind",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, obj: Attachment) -> str:
        return f"/api/v1/documents/{obj.document_id}/attachments/{obj.pk}/"


class DocumentListItemSerializer(serializers.ModelSerializer):
    unit = UnitRefSerializer()
    drafter = UserRefSerializer()

    class Meta:
        model = Document
        fields = [
            "id",
            "direction",
            "title",
            "doc_type",
            "urgency",
            "status",
            "doc_number",
            "unit",
            "drafter",
            "version",
            "created_at",
            "updated_at",
            "time_limit_days",
            "due_at",
            "overdue",
        ]

    time_limit_days = serializers.FloatField(
        allow_null=True,
        help_text="overall time limit in working days (限时办结); null before the first submission",
    )
    due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="overall due time: every task of the document shows it; pushed back by "
        "the time it spent back with its drafter",
    )
    overdue = serializers.BooleanField(
        source="is_overdue", help_text="past its overall due time (marked once)"
    )


class PermissionsSerializer(serializers.Serializer):
    edit = serializers.BooleanField(help_text="may PATCH and manage attachments now")
    void_number = serializers.BooleanField()


class DocumentSerializer(DocumentListItemSerializer):
    body = ParagraphSerializer(many=True)
    attachments = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta(DocumentListItemSerializer.Meta):
        fields = [
            *DocumentListItemSerializer.Meta.fields,
            "classification",
            "body",
            "main_recipients",
            "cc",
            "header_text",
            "attachments",
            "permissions",
        ]

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj: Document) -> list[dict]:
        items = live_attachments(obj).select_related("uploaded_by")
        return list(AttachmentSerializer(items, many=True).data)

    @extend_schema_field(PermissionsSerializer)
    def get_permissions(self, obj: Document) -> dict[str, bool]:
        return permissions_for(self.context["request"].user, obj)


class _DocumentFieldsSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    doc_type = serializers.ChoiceField(choices=DocType.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    classification = serializers.CharField(
        max_length=40,
        required=False,
        help_text="Only `none` is accepted; any other value is refused (422 classified_refused).",
    )
    body = ParagraphSerializer(many=True, required=False, max_length=2000)  # type: ignore[call-arg]
    main_recipients = serializers.CharField(max_length=500, required=False, allow_blank=True)
    cc = serializers.CharField(max_length=500, required=False, allow_blank=True)
    header_text = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DocumentCreateSerializer(_DocumentFieldsSerializer):
    direction = serializers.ChoiceField(choices=Direction.choices)
    unit = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="default: your unit"
    )


class DocumentPatchSerializer(_DocumentFieldsSerializer):
    title = serializers.CharField(max_length=200, required=False)
    doc_type = serializers.ChoiceField(choices=DocType.choices, required=False)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="optimistic concurrency; or send the ETag in If-Match",
    )


class VoidNumberSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    edited_by = UserRefSerializer(allow_null=True)
    edited_at = serializers.DateTimeField()
    changed_fields = serializers.ListField(child=serializers.CharField())
    snapshot = serializers.DictField()
