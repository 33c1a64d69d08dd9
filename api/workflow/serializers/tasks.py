"""Serializers of the mobile approval API (docs/mobile-api.md).

Reads are shaped for a phone: one list item carries everything the to-do list shows
(no second request per row). Writes derive from StrictSerializer (unknown fields →
400 ``unknown_field``); the approve body may be empty (the one tap).
"""

from __future__ import annotations

from rest_framework import serializers

from api.common.people import PersonRefSerializer
from api.common.serializers import StrictSerializer
from api.workflow.task_results import (
    CONFIRMED_WITH_HELP,
    TaskDocumentRefSerializer,
    TaskItemFields,
    TaskItemSerializer,
)

MAX_BATCH = 100
OPINION_MAX = 2000


# ---------------------------------------------------------------- reads


class TaskPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="the next page; null at the end")
    previous = serializers.URLField(allow_null=True, help_text="always null (forward-only)")
    results = TaskItemSerializer(many=True)


class TaskAllowedActionSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    code = serializers.CharField(required=False, help_text="why not (a stable code)")
    reason = serializers.CharField(required=False, help_text="why not, for people")


class TaskAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class TaskParagraphSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text="0 paragraph; 1–4 headings 一、/（一）/1./（1）")
    text = serializers.CharField()


class TaskUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TaskDocumentSerializer(TaskDocumentRefSerializer):
    direction = serializers.CharField()
    status = serializers.CharField()
    unit = TaskUnitRefSerializer(help_text="the drafting unit")
    drafter = PersonRefSerializer()
    header_text = serializers.CharField()
    main_recipients = serializers.CharField(help_text="主送")
    cc = serializers.CharField(help_text="抄送")
    body = TaskParagraphSerializer(many=True)
    version = serializers.IntegerField()


class TrailStepSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()


class TrailEntrySerializer(serializers.Serializer):
    """One entry of a document's trail, as api.workflow.selectors.trail builds it."""

    task_id = serializers.IntegerField()
    instance_id = serializers.IntegerField()
    step = TrailStepSerializer()
    state = serializers.CharField()
    action = serializers.CharField(help_text="approve, return, transfer, … ('' while open)")
    opinion = serializers.CharField()
    actor = PersonRefSerializer(allow_null=True, help_text="who acted (null: the system)")
    on_behalf_of = PersonRefSerializer(allow_null=True, help_text="for whom (代)")
    actor_label = serializers.CharField(help_text='e.g. "吴强 代 张伟" (deputy1 代 leader1)')
    received_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    acted_at = serializers.DateTimeField(allow_null=True)
    working_seconds = serializers.IntegerField(allow_null=True)
    confirmed_with = serializers.CharField(allow_blank=True, help_text=CONFIRMED_WITH_HELP)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = PersonRefSerializer(allow_null=True, help_text="who sent it")
        return fields


class DocumentTrailSerializer(serializers.Serializer):
    document_id = serializers.IntegerField()
    entries = TrailEntrySerializer(many=True)


class TaskDetailSerializer(TaskItemFields):
    action = serializers.CharField()
    opinion = serializers.CharField()
    acted_at = serializers.DateTimeField(allow_null=True)
    confirmed_with = serializers.CharField(allow_blank=True, help_text=CONFIRMED_WITH_HELP)
    batchable = serializers.BooleanField()
    document = TaskDocumentSerializer()
    attachments = TaskAttachmentSerializer(many=True)
    trail = TrailEntrySerializer(many=True)
    allowed_actions = serializers.DictField(
        child=TaskAllowedActionSerializer(),
        help_text='{"approve": {"allowed": true}, "withdraw": {"allowed": false, '
        '"code": "…", "reason": "…"}}',
    )


class TaskSummarySerializer(serializers.Serializer):
    todo = serializers.IntegerField(help_text="open tasks")
    overdue = serializers.IntegerField(help_text="open tasks past their deadline")
    unread = serializers.IntegerField(help_text="open tasks never opened")


class TaskBatchItemSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()
    ok = serializers.BooleanField()
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class TaskBatchResultSerializer(serializers.Serializer):
    results = TaskBatchItemSerializer(many=True)


class WorkflowInstanceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    state = serializers.CharField(help_text="running | completed | withdrawn | returned")
    current_step_order = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


# ---------------------------------------------------------------- writes


class WebAuthnAssertionSerializer(StrictSerializer):
    """A passkey step-up: the challenge of ``tasks/{id}/step-up-options/`` and the
    browser's ``credential.toJSON()`` (AuthenticationResponseJSON)."""

    challenge_id = serializers.CharField(max_length=64)
    credential = serializers.DictField(help_text="AuthenticationResponseJSON")


class TaskApproveSerializer(StrictSerializer):
    opinion = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=OPINION_MAX,
        help_text="optional; empty → the step's standard opinion (同意, 已阅 …)",
    )
    webauthn = WebAuthnAssertionSerializer(
        required=False,
        help_text="optional passkey step-up; verified before anything is recorded "
        "(403 step_up_failed otherwise)",
    )


class TaskReturnSerializer(StrictSerializer):
    opinion = serializers.CharField(max_length=OPINION_MAX, help_text="required: why")
    to = serializers.ChoiceField(
        choices=["previous", "drafter", "sender"],
        default="previous",
        help_text="sender: an incoming document goes back to the sending unit (退文)",
    )


class TaskTransferSerializer(StrictSerializer):
    to_user_id = serializers.IntegerField(min_value=1)
    opinion = serializers.CharField(required=False, allow_blank=True, max_length=OPINION_MAX)


class TaskAddCountersignerSerializer(StrictSerializer):
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=20
    )
    opinion = serializers.CharField(required=False, allow_blank=True, max_length=OPINION_MAX)


class EmptyBodySerializer(StrictSerializer):
    """No fields: the body is empty or ``{}``."""


class TaskBatchApproveSerializer(StrictSerializer):
    task_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        help_text=f"at most {MAX_BATCH} (more: 422 batch_too_large)",
    )


class DocumentSubmitSerializer(StrictSerializer):
    template_id = serializers.IntegerField(min_value=1)
    participants = serializers.DictField(
        required=False,
        default=dict,
        help_text='the drafter\'s choices, e.g. {"countersigners": [12, 13, 14], '
        '"sign_off_by": 15}',
    )
