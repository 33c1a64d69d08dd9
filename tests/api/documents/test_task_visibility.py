"""Anyone who has or had a workflow task on a document sees it
(docs/documents.md#who-sees-a-document)."""

from __future__ import annotations

import pytest
from django.apps import apps

from api.documents import actions
from tests.api.documents.conftest import DRAFT

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("api.workflow"), reason="workflow app not installed"),
]


def test_task_holder_and_represented_user_see_the_document(as_, personas, org):
    from api.workflow.models import Task, WorkflowInstance, WorkflowTemplate

    document = actions.create_draft(personas["bob"], **DRAFT)
    url = f"/api/v1/documents/{document.pk}/"
    assert as_("charlie").get(url).status_code == 404
    template = WorkflowTemplate.objects.create(unit=org.office, name="发文", direction="outgoing")
    instance = WorkflowInstance.objects.create(
        document=document, template=template, started_by=personas["bob"]
    )
    Task.objects.create(
        instance=instance,
        document=document,
        step_order=1,
        step_kind="countersign",
        step_name="会签",
        assignee=personas["charlie"],
        on_behalf_of=personas["dana"],
        state="done",
    )
    for persona in ("charlie", "dana"):
        assert as_(persona).get(url).status_code == 200, persona
        listed = as_(persona).get("/api/v1/documents/").json()["results"]
        assert [d["id"] for d in listed] == [document.pk]
