"""The answer to an action on one task — approve, return, …, and other apps' task
steps (the seal step, api/seals/views.py): its shape and the dict that fills it.

Docs: docs/mobile-api.md#actions. Public for the apps above the workflow, so none of
them imports the workflow's views or serializers. A list item is built as a plain
dict (rendering 20 items through DRF fields cost more than the query —
docs/performance.md); the serializers here document it in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from api.accounts.models import User
from api.common.datetimes import client_datetime
from api.common.people import PersonRefSerializer, person_ref
from api.workflow import selectors
from api.workflow.lights import deadline_light


class TaskDocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    doc_number = serializers.CharField(help_text="发文字号; empty until numbered")
    urgency = serializers.CharField(help_text="normal | urgent | very_urgent")
    doc_type = serializers.CharField()
    due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="the document's overall due time (限时办结); null before its first submission",
    )
    overdue = serializers.BooleanField(help_text="the document is past its overall due time")


class TaskStepSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="review, countersign, sign_off, …")
    name = serializers.CharField(help_text="e.g. 会签")


class TaskItemFields(serializers.Serializer):
    """The fields of one to-do/done list item (also the base of the detail)."""

    id = serializers.IntegerField()
    state = serializers.CharField(help_text="open | done | returned | transferred | …")
    document = TaskDocumentRefSerializer()
    step = TaskStepSerializer()
    received_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    deadline_light = serializers.ChoiceField(
        choices=["none", "green", "yellow", "red"],
        help_text="none: not open or no deadline; yellow: ≥75 % of the allowed working "
        "time used; red: past due (docs/urging.md#lights)",
    )
    unread = serializers.BooleanField()

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here.
        fields["from"] = PersonRefSerializer(allow_null=True, help_text="who sent it")
        fields["on_behalf_of"] = PersonRefSerializer(
            allow_null=True, help_text="A, when you act as A's backup (代)"
        )
        return fields


class TaskItemSerializer(TaskItemFields):
    actions = serializers.ListField(
        child=serializers.CharField(), help_text="names of the actions allowed now"
    )
    action = serializers.CharField(
        required=False, help_text="state=done only: what I did (approve, return, transfer, …)"
    )
    opinion = serializers.CharField(required=False, help_text="state=done only: my opinion")
    acted_at = serializers.DateTimeField(required=False, help_text="state=done only: when")


CONFIRMED_WITH_HELP = (
    '"passkey" when the action was confirmed by a WebAuthn step-up (user verification '
    "checked by the server); empty otherwise (docs/workflow.md#step-up-with-a-passkey)"
)


class TaskResultSerializer(TaskItemSerializer):
    """A task after an action: the item plus what was done."""

    action = serializers.CharField(help_text="approve, return, transfer, … ('' if none)")
    opinion = serializers.CharField()
    acted_at = serializers.DateTimeField(allow_null=True)
    confirmed_with = serializers.CharField(allow_blank=True, help_text=CONFIRMED_WITH_HELP)


def allowed_names(allowed: dict[str, dict]) -> list[str]:
    return [name for name, verdict in allowed.items() if verdict.get("allowed")]


def task_item(task: Any, allowed: dict[str, dict] | None = None) -> dict[str, Any]:
    """The list-item dict of a task (documents, people select_related), already in its
    JSON form (TaskItemSerializer documents it; rendering 20 items through DRF fields
    cost more than the query — see docs/performance.md)."""
    document = task.document
    item = {
        "id": task.pk,
        "state": task.state,
        "document": {
            "id": document.pk,
            "title": document.title,
            "doc_number": document.doc_number,
            "urgency": document.urgency,
            "doc_type": document.doc_type,
            "due_at": client_datetime(document.due_at),
            "overdue": document.is_overdue,
        },
        "step": {"kind": task.step_kind, "name": task.step_name},
        "from": person_ref(task.sender),
        "on_behalf_of": person_ref(task.on_behalf_of),
        "received_at": client_datetime(task.received_at),
        "due_at": client_datetime(task.due_at),
        "overdue": task.is_overdue,
        "deadline_light": deadline_light(task, timezone.now()),
        "unread": task.read_at is None,
    }
    if allowed is not None:
        item["actions"] = allowed_names(allowed)
    return item


def same_or_reload(task: Any, pk: int, user: User) -> Any:
    """The task an action returned when it is the one acted on (its instance and
    document are the rows the action locked and saved: current after the commit);
    otherwise this user's view of task ``pk`` again."""
    if task is not None and getattr(task, "pk", None) == pk:
        return task
    return selectors.task_or_404(user, pk)


def task_result(task: Any, user: User) -> dict[str, Any]:
    item = task_item(task, selectors.allowed_actions(task, user))
    item.update(
        {
            "action": task.action,
            "opinion": task.opinion,
            "acted_at": task.acted_at,
            "confirmed_with": task.confirmed_with,
        }
    )
    return item
