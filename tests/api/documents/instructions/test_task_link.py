"""A leader with a task on another unit's document may add a 批示, linked to the task
(docs/instructions.md#who-may-add-and-see-instructions)."""

from __future__ import annotations

import pytest

from api.documents import actions
from api.documents.models import HandwrittenInstruction
from tests.api.documents.conftest import DRAFT, code
from tests.api.documents.instructions.conftest import STROKES

pytestmark = pytest.mark.django_db


def _task(document, org, personas, assignee, state):
    from api.workflow.models import Task, WorkflowInstance, WorkflowTemplate

    instance = WorkflowInstance.objects.filter(document=document).first()
    if instance is None:
        template = WorkflowTemplate.objects.create(
            unit=org.office, name="发文", direction="outgoing"
        )
        instance = WorkflowInstance.objects.create(
            document=document, template=template, started_by=personas["bob"]
        )
    return Task.objects.create(
        instance=instance,
        document=document,
        step_order=1,
        step_kind="approve",
        step_name="领导批示",
        assignee=personas[assignee],
        state=state,
    )


def test_task_holder_adds_an_instruction_linked_to_the_task(as_, personas, org):
    document = actions.create_draft(personas["bob"], **DRAFT)
    url = f"/api/v1/documents/{document.pk}/instructions/"
    assert as_("charlie").post(url, STROKES, format="json").status_code == 404
    task = _task(document, org, personas, "charlie", "open")
    response = as_("charlie").post(url, STROKES, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["task_id"] == task.pk
    explicit = as_("charlie").post(url, {**STROKES, "task_id": task.pk}, format="json")
    assert explicit.status_code == 201 and explicit.json()["task_id"] == task.pk


def test_a_task_that_is_not_yours_or_not_open_or_done_is_refused(as_, personas, org):
    document = actions.create_draft(personas["bob"], **DRAFT)
    url = f"/api/v1/documents/{document.pk}/instructions/"
    others = _task(document, org, personas, "alice", "open")
    cancelled = _task(document, org, personas, "leo", "cancelled")
    for task_id in (others.pk, cancelled.pk, 2**63):
        response = as_("leo").post(url, {**STROKES, "task_id": task_id}, format="json")
        assert response.status_code == 400, task_id
        assert code(response) == "validation_error"
        assert "task_id" in response.json()["error"]["fields"]
    # leo sees the document as a leader of the office: no task → task_id null
    response = as_("leo").post(url, STROKES, format="json")
    assert response.status_code == 201 and response.json()["task_id"] is None
    assert HandwrittenInstruction.objects.count() == 1


def test_missing_image_is_a_validation_error(as_, personas):
    document = actions.create_draft(personas["bob"], **DRAFT)
    response = as_("leo").post(
        f"/api/v1/documents/{document.pk}/instructions/", {"opinion": "阅"}, format="multipart"
    )
    assert response.status_code == 400
    assert "image" in response.json()["error"]["fields"]
