"""Request and response shapes of the exchange API. Docs: docs/exchange.md#api.

Responses are built as plain dicts by ``receipt_item`` / ``dispatch_summary`` (from
rows loaded with their references in one query); the serializers below document
them for OpenAPI and validate requests (unknown fields → 400 ``unknown_field``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from rest_framework import serializers

from api.common.datetimes import client_datetime
from api.common.people import PersonRefSerializer, person_ref
from api.common.serializers import StrictSerializer
from api.exchange.models import Dispatch, ExchangeGroup, Receipt, ReceiptState
from api.workflow.task_results import TaskResultSerializer

MAX_IDS = 5000


def unit_ref(unit: Any) -> dict[str, Any]:
    return {"id": unit.pk, "name": unit.name, "short_name": unit.short_name}


_unit = unit_ref


def receipt_item(receipt: Receipt) -> dict[str, Any]:
    dispatch = receipt.dispatch
    document = dispatch.document
    return {
        "id": receipt.pk,
        "dispatch_id": dispatch.pk,
        "state": receipt.state,
        "role": receipt.role,
        "unit": _unit(receipt.unit),
        "sender_unit": _unit(dispatch.sender_unit),
        "document": {
            "id": document.pk,
            "title": document.title,
            "doc_number": document.doc_number,
            "doc_type": document.doc_type,
            "urgency": document.urgency,
        },
        "sent_at": client_datetime(receipt.sent_at),
        "notified_at": client_datetime(receipt.notified_at),
        "read_at": client_datetime(receipt.read_at),
        "signed_for_at": client_datetime(receipt.signed_for_at),
        "signed_for_by": person_ref(receipt.signed_for_by),
        "returned_at": client_datetime(receipt.returned_at),
        "returned_by": person_ref(receipt.returned_by),
        "return_reason": receipt.return_reason,
        "recalled_at": client_datetime(receipt.recalled_at),
        "recalled_by": person_ref(receipt.recalled_by),
        "incoming_document_id": receipt.incoming_document_id,
        "returned_at_step": receipt.returned_at_step,
        "reply": _reply(receipt),
        "in_reply_to": _in_reply_to(receipt),
    }


def _reply(receipt: Receipt) -> dict[str, Any] | None:
    """The receiving unit's 答复 to this receipt (the sender's per-recipient status)."""
    reply = receipt.reply_receipt
    if reply is None:
        return None
    return {
        "receipt_id": reply.pk,
        "document_id": reply.dispatch.document_id,
        "text": receipt.reply_text,
        "replied_at": client_datetime(receipt.replied_at),
    }


def _in_reply_to(receipt: Receipt) -> dict[str, Any] | None:
    """On a reply's receipt (in the original sender's inbox): the receipt it answers."""
    try:
        original = receipt.in_reply_to
    except Receipt.DoesNotExist:
        return None
    return {
        "receipt_id": original.pk,
        "document_id": original.dispatch.document_id,
        "text": original.reply_text,
        "replied_at": client_datetime(original.replied_at),
    }


def dispatch_summary(dispatch: Dispatch) -> dict[str, Any]:
    """The dispatch with its per-state counts (one aggregate query)."""
    counts = Receipt.objects.filter(dispatch=dispatch).aggregate(
        total=Count("id"),
        read=Count("id", filter=Q(read_at__isnull=False)),
        **{state: Count("id", filter=Q(state=state)) for state in ReceiptState.values},
    )
    return {
        "id": dispatch.pk,
        "document_id": dispatch.document_id,
        "sender_unit": _unit(dispatch.sender_unit),
        "by": person_ref(dispatch.by),
        "created_at": client_datetime(dispatch.created_at),
        "state": dispatch.state,
        "fanned_out_at": client_datetime(dispatch.fanned_out_at),
        "group_ids": dispatch.group_ids,
        "rendering_sha256": dispatch.rendering.sha256 if dispatch.rendering else None,
        "counts": counts,
    }


def group_item(group: ExchangeGroup) -> dict[str, Any]:
    units = sorted(group.units.all(), key=lambda u: u.path)
    return {"id": group.pk, "name": group.name, "units": [_unit(u) for u in units]}


# --- documentation serializers (responses) -------------------------------------------------


class ExchangeUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    short_name = serializers.CharField()


class ReceiptDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the original (readable by the sending side only)")
    title = serializers.CharField()
    doc_number = serializers.CharField(help_text="发文字号 of the sender")
    doc_type = serializers.CharField()
    urgency = serializers.CharField()


class ReceiptReplySerializer(serializers.Serializer):
    receipt_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    text = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)


class ReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dispatch_id = serializers.IntegerField()
    state = serializers.CharField(help_text="pending | signed_for | returned | recalled")
    role = serializers.CharField(help_text="to 主送 | cc 抄送")
    unit = ExchangeUnitRefSerializer(help_text="the receiving unit")
    sender_unit = ExchangeUnitRefSerializer()
    document = ReceiptDocumentSerializer()
    sent_at = serializers.DateTimeField()
    notified_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    signed_for_at = serializers.DateTimeField(allow_null=True)
    signed_for_by = PersonRefSerializer(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    returned_by = PersonRefSerializer(allow_null=True)
    return_reason = serializers.CharField()
    recalled_at = serializers.DateTimeField(allow_null=True)
    recalled_by = PersonRefSerializer(allow_null=True)
    incoming_document_id = serializers.IntegerField(
        allow_null=True, help_text="the 收文 created in the receiving unit on sign-for"
    )
    returned_at_step = serializers.CharField(
        help_text="the receiving unit's flow step that returned it after sign-for "
        "(e.g. preliminary_review 初审); empty for a 退文 from the inbox"
    )
    reply = ReceiptReplySerializer(
        allow_null=True, help_text="the receiving unit's 答复, sent back through the exchange"
    )
    in_reply_to = ReceiptReplySerializer(
        allow_null=True,
        help_text="on a reply's receipt: the original receipt it answers (receipt_id, "
        "document_id = the original document, text = the reply)",
    )


class ReceiptPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReceiptSerializer(many=True)


class DispatchCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    signed_for = serializers.IntegerField()
    returned = serializers.IntegerField()
    recalled = serializers.IntegerField()
    read = serializers.IntegerField()


class DispatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    sender_unit = ExchangeUnitRefSerializer()
    by = PersonRefSerializer()
    created_at = serializers.DateTimeField()
    state = serializers.CharField(help_text="sending | sent (once every recipient was notified)")
    fanned_out_at = serializers.DateTimeField(allow_null=True)
    group_ids = serializers.ListField(child=serializers.IntegerField())
    rendering_sha256 = serializers.CharField(
        allow_null=True, help_text="SHA-256 of the sealed PDF sent (null for a 答复 reply)"
    )
    counts = DispatchCountsSerializer()


class DispatchStatusSerializer(ReceiptPageSerializer):
    dispatch = DispatchSerializer()


class FlowSerializer(serializers.Serializer):
    started = serializers.BooleanField()
    template_id = serializers.IntegerField(allow_null=True)
    instance_id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField(
        allow_null=True,
        help_text="why the flow did not start: no_incoming_template, participants_missing, …",
    )
    message = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        # Declared here: a class attribute named "fields" would shadow Serializer.fields.
        fields["fields"] = serializers.DictField(
            required=False, help_text="per participant key, when participants_missing"
        )
        return fields


class DistributeResultSerializer(TaskResultSerializer):
    """The distribute task after the dispatch completed it, with the dispatch."""

    dispatch = DispatchSerializer()


class SignResultSerializer(ReceiptSerializer):
    flow = FlowSerializer()


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    units = ExchangeUnitRefSerializer(many=True)


class GroupPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GroupSerializer(many=True)


# --- requests ---------------------------------------------------------------------------------


def _ids(help_text: str, *, required: bool = False) -> serializers.ListField:
    extra: dict[str, Any] = {"required": True} if required else {"default": list}
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=MAX_IDS,
        help_text=help_text,
        **extra,
    )


class DispatchRequestSerializer(StrictSerializer):
    to_units = _ids("主送 unit ids")
    cc_units = _ids("抄送 unit ids")
    groups = _ids("exchange group ids; their units are added as 主送 unless listed explicitly")


class DistributeRequestSerializer(StrictSerializer):
    to_units = _ids("主送 unit ids; with no recipient at all, the step's defaults")
    cc_units = _ids("抄送 unit ids")
    groups = _ids("exchange group ids; their units are added as 主送 unless listed explicitly")


class DistributeDefaultsSerializer(serializers.Serializer):
    to_units = ExchangeUnitRefSerializer(many=True)
    cc_units = ExchangeUnitRefSerializer(many=True)
    unmatched = serializers.ListField(
        child=serializers.CharField(), help_text="names in 主送/抄送 that match no exchange unit"
    )


class SignRequestSerializer(StrictSerializer):
    template_id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="an incoming template; default: the nearest active one of the unit",
    )
    participants = serializers.DictField(
        required=False,
        default=dict,
        help_text='the template\'s choice steps, e.g. {"handler": 12} (as on submit)',
    )


class ReturnRequestSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=500, allow_blank=True, help_text="required: why it is returned (退文理由)"
    )


class EmptyRequestSerializer(StrictSerializer):
    """No fields: the body is empty or ``{}``."""


class GroupCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    unit_ids = _ids("the group's units", required=True)


class GroupUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    unit_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_IDS,
    )
