"""Request and response shapes of the 信息报送 API. Docs: docs/submissions.md#api."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.common.datetimes import client_datetime
from api.common.people import person_ref
from api.common.serializers import StrictSerializer
from api.submissions.models import (
    Call,
    Delivery,
    Instruction,
    JournalIssue,
    ScoreEntry,
    ScoreEvent,
    Submission,
)


class SubmissionCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    category = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    contact = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    call = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    attachments = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=50
    )


class EmptySerializer(StrictSerializer):
    pass


class SubmitSerializer(StrictSerializer):
    offices = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=20)


class AdoptSerializer(StrictSerializer):
    office = serializers.IntegerField(min_value=1)
    issue = serializers.IntegerField(min_value=1)


class MergeSerializer(StrictSerializer):
    office = serializers.IntegerField(min_value=1)
    into = serializers.IntegerField(min_value=1)


class ReturnSerializer(StrictSerializer):
    office = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500)


class InstructionCreateSerializer(StrictSerializer):
    office = serializers.IntegerField(min_value=1)
    text = serializers.CharField(max_length=4000)


class IssueCreateSerializer(StrictSerializer):
    journal = serializers.IntegerField(min_value=1)


class CallCreateSerializer(StrictSerializer):
    office = serializers.IntegerField(min_value=1)
    topic = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=4000, required=False, default="", allow_blank=True
    )
    deadline = serializers.DateTimeField()
    units = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class RuleSetSerializer(StrictSerializer):
    office = serializers.IntegerField(min_value=1)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    event = serializers.ChoiceField(choices=ScoreEvent.choices)
    points = serializers.IntegerField(min_value=-1000, max_value=1000)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class SubmissionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.CharField()
    unit = serializers.DictField()
    deliveries = serializers.ListField(child=serializers.DictField())


class SubmissionsPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = serializers.ListField(child=serializers.DictField())


def delivery_item(d: Delivery) -> dict[str, Any]:
    return {
        "office_id": d.office_id,
        "office": d.office.name,
        "state": d.state,
        "late": d.late,
        "issue_id": d.issue_id,
        "merged_into_submission_id": d.merged_into.submission_id if d.merged_into else None,
        "reason": d.reason,
        "decided_at": client_datetime(d.decided_at),
    }


def submission_item(s: Submission) -> dict[str, Any]:
    return {
        "id": s.pk,
        "title": s.title,
        "category": s.category,
        "state": s.state,
        "unit": {"id": s.unit_id, "name": s.unit.name},
        "author": person_ref(s.author),
        "call_id": s.call_id,
        "created_at": client_datetime(s.created_at),
        "submitted_at": client_datetime(s.submitted_at),
        "deliveries": [
            {
                "office_id": d.office_id,
                "office": d.office.name,
                "state": d.state,
                "late": d.late,
                "issue_id": d.issue_id,
                "reason": d.reason,
            }
            for d in s.deliveries.all()
        ],
    }


def submission_detail(s: Submission, instructions: list[Instruction]) -> dict[str, Any]:
    item = submission_item(s)
    item.update(
        {
            "body": s.body,
            "contact": s.contact,
            "attachments": s.attachment_ids,
            "approved_by": s.approved_by_id,
            "approved_at": client_datetime(s.approved_at),
            "instructions": [instruction_item(i) for i in instructions],
        }
    )
    return item


def instruction_item(i: Instruction) -> dict[str, Any]:
    return {
        "id": i.pk,
        "leader": person_ref(i.leader),
        "office_id": i.delivery.office_id,
        "submission_id": i.delivery.submission_id,
        "text": i.text,
        "created_at": client_datetime(i.created_at),
    }


def issue_item(i: JournalIssue) -> dict[str, Any]:
    return {
        "id": i.pk,
        "journal": {"id": i.journal_id, "name": i.journal.name, "office_id": i.journal.office_id},
        "state": i.state,
        "year": i.year,
        "number": i.number,
        "title": f"{i.journal.name} {i.year}年第{i.number}期"
        if i.number
        else f"{i.journal.name}（编辑中）",
        "published_at": client_datetime(i.published_at),
        "pages": i.pages,
        "pdf_sha256": i.pdf_sha256 or None,
    }


def call_item(c: Call) -> dict[str, Any]:
    return {
        "id": c.pk,
        "office_id": c.office_id,
        "topic": c.topic,
        "description": c.description,
        "deadline": client_datetime(c.deadline),
        "created_at": client_datetime(c.created_at),
    }


def score_entry_item(e: ScoreEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "unit_id": e.unit_id,
        "year": e.year,
        "month": e.month,
        "event": e.event,
        "points": e.points,
        "rule": {
            "id": e.rule_id,
            "event": e.rule.event,
            "points": e.rule.points,
            "year": e.rule.year,
            "office_id": e.rule.office_id,
        },
        "submission_id": e.delivery.submission_id,
        "office_id": e.delivery.office_id,
        "instruction_id": e.instruction_id,
        "created_at": client_datetime(e.created_at),
    }
