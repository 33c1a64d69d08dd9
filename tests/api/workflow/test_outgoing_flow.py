"""The full outgoing flow at the action level (docs/workflow.md#demo-templates)."""

from __future__ import annotations

import pyotp
import pytest
from django.utils import timezone

from api.audit.models import AuditEvent
from api.common.errors import ApiError
from api.documents.models import Document
from api.exchange.actions import distribute_task
from api.seals.actions import seal_task
from api.workdays import add_working_days
from api.workflow import actions, selectors
from api.workflow.models import InstanceState, Task, TaskState


def test_full_outgoing_flow(demo, outgoing):
    document, instance = outgoing()
    document.refresh_from_db()
    assert document.status == "in_progress"
    review = demo.open_task("director", document)
    assert review.step_kind == "review" and review.sender == demo.user("clerk")
    assert review.due_at == add_working_days(review.received_at, 1)

    actions.approve(review.pk, demo.user("director"))
    countersign = {
        name: demo.open_task(name, document) for name in ("leader1", "leader2", "leader3")
    }
    document.refresh_from_db()
    # three countersigning leaders: the document has 3 working days from its submission
    assert document.due_at == add_working_days(document.limit_started_at, 3)
    for task in countersign.values():
        assert task.sender == demo.user("director")
        # the step's own 3 working days, never after the document's due time
        assert task.due_at == min(add_working_days(task.received_at, 3), document.due_at)
    actions.approve(countersign["leader1"].pk, demo.user("leader1"))
    actions.approve(countersign["leader2"].pk, demo.user("leader2"), "同意，请抓紧落实。")
    assert not Task.objects.filter(document=document, step_kind="sign_off").exists()
    actions.approve(countersign["leader3"].pk, demo.user("leader3"))

    sign_off = demo.open_task("mayor", document)
    assert sign_off.sender == demo.user("leader3")
    actions.approve(sign_off.pk, demo.user("mayor"))

    document.refresh_from_db()
    year = timezone.localdate().year
    assert document.doc_number == f"新府办发〔{year}〕1号"
    seal = demo.open_task("custodian", document)
    with pytest.raises(ApiError) as error:  # a seal step is sealed, not approved
        actions.approve(seal.pk, demo.user("custodian"))
    assert error.value.code == "seal_required" and error.value.status_code == 409
    custodian = demo.user("custodian")
    totp = pyotp.TOTP(custodian.totp_secret)
    seal_task(seal.pk, custodian, totp.generate_otp(totp.timecode(timezone.now())))
    distribute = demo.open_task("clerk", document)
    with pytest.raises(ApiError) as error:  # 分发 is the exchange dispatch, not an approval
        actions.approve(distribute.pk, demo.user("clerk"))
    assert error.value.code == "dispatch_required" and error.value.status_code == 409
    distribute_task(distribute.pk, demo.user("clerk"), to_units=[demo.unit("XC-FGW").pk])

    instance.refresh_from_db()
    document.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED and instance.finished_at
    assert document.status == "completed"

    entries = selectors.trail(document)
    kinds = [e["step"]["kind"] for e in entries]
    assert kinds == [
        "review",
        "countersign",
        "countersign",
        "countersign",
        "sign_off",
        "number",
        "seal",
        "distribute",
    ]
    opinions = [(e["actor_label"], e["opinion"]) for e in entries]
    assert opinions[0] == ("王建国", "同意")
    assert ("王芳", "同意，请抓紧落实。") in opinions
    assert opinions.count(("张伟", "同意")) == 1
    assert opinions[5] == ("系统", "")
    assert entries[5]["detail"]["doc_number"] == document.doc_number
    for entry in entries:
        assert entry["acted_at"] is not None and entry["received_at"] is not None
        assert entry["working_seconds"] is not None
    events = set(
        AuditEvent.objects.filter(object_id=str(document.pk)).values_list("action", flat=True)
    )
    assert {"workflow.submitted", "task.approved", "workflow.completed"} <= events


def test_second_approve_is_refused_and_leaves_one_opinion(demo, outgoing):
    document, _ = outgoing()
    review = demo.open_task("director", document)
    actions.approve(review.pk, demo.user("director"), "同意")
    with pytest.raises(ApiError) as error:
        actions.approve(review.pk, demo.user("director"), "同意")
    assert error.value.code == "task_not_open" and error.value.status_code == 409
    assert [e["opinion"] for e in selectors.trail(document)].count("同意") == 1
    assert AuditEvent.objects.filter(action="task.approved").count() == 1


def test_someone_elses_task_is_404_and_recorded(demo, outgoing):
    document, _ = outgoing()
    review = demo.open_task("director", document)
    with pytest.raises(ApiError) as error:
        actions.approve(review.pk, demo.user("leader1"))
    assert error.value.status_code == 404
    assert AuditEvent.objects.filter(action="task.approve", result="denied").exists()
    with pytest.raises(ApiError) as error:
        actions.approve(10**12, demo.user("leader1"))
    assert error.value.status_code == 404


def test_submit_checks(demo):
    document = demo.draft()
    template = demo.template("市政府办公室发文")
    clerk = demo.user("clerk")
    with pytest.raises(ApiError) as error:
        actions.submit(document.pk, clerk, template.pk, {"countersigners": []})
    assert error.value.code == "participants_missing"
    assert "sign_off_by" in error.value.fields
    with pytest.raises(ApiError) as error:
        actions.submit(
            document.pk,
            clerk,
            template.pk,
            {"sign_off_by": [demo.user("mayor").pk, demo.user("leader1").pk]},
        )
    assert error.value.code == "participants_missing"  # one person only for sign-off
    inactive = demo.user("b_staff")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for outsider in (inactive.pk, 10**9):
        with pytest.raises(ApiError) as error:
            actions.submit(document.pk, clerk, template.pk, {"sign_off_by": outsider})
        assert error.value.code == "participant_out_of_scope"
    with pytest.raises(ApiError) as error:
        actions.submit(document.pk, clerk, template.pk, {"nobody": 1})
    assert error.value.code == "unknown_field"
    with pytest.raises(ApiError) as error:
        actions.submit(
            document.pk, clerk, demo.template("市发展和改革委员会发文").pk, {}
        )  # another unit's template
    assert error.value.code == "template_not_usable"
    with pytest.raises(ApiError) as error:
        actions.submit(
            document.pk, clerk, demo.template("市政府办公室收文").pk, {}
        )  # wrong direction
    assert error.value.code == "template_not_usable"
    with pytest.raises(ApiError) as error:
        actions.submit(document.pk, demo.user("director"), template.pk, {})
    assert error.value.status_code == 403 and error.value.code == "not_drafter"
    with pytest.raises(ApiError) as error:  # cannot see the document at all
        actions.submit(document.pk, demo.user("b_clerk"), template.pk, {})
    assert error.value.status_code == 404

    # countersign is optional in the demo template: skipped when nobody is chosen
    instance = actions.submit(
        document.pk, clerk, template.pk, {"sign_off_by": demo.user("mayor").pk}
    )
    actions.approve(demo.open_task("director", document).pk, demo.user("director"))
    assert demo.open_task("mayor", document).step_kind == "sign_off"
    with pytest.raises(ApiError) as error:
        actions.submit(document.pk, clerk, template.pk, {"sign_off_by": demo.user("mayor").pk})
    assert error.value.code == "document_not_submittable"
    assert instance.participants == {"countersigners": [], "sign_off_by": [demo.user("mayor").pk]}


def test_template_edit_does_not_change_a_running_instance(demo, outgoing):
    _document, instance = outgoing()
    template = demo.template("市政府办公室发文")
    template.steps.filter(kind="seal").delete()  # even a raw edit cannot reach the snapshot
    instance.refresh_from_db()
    assert [s["kind"] for s in instance.steps].count("seal") == 1


def test_to_do_list_order_and_summary(demo, outgoing):
    normal, _ = outgoing(title="普通件")
    urgent, _ = outgoing(title="特急件", urgency="very_urgent")
    director = demo.user("director")
    todo = list(selectors.todo_tasks(director))
    assert [t.document_id for t in todo] == [urgent.pk, normal.pk]
    assert selectors.summary(director) == {"todo": 2, "overdue": 0, "unread": 2}
    Task.objects.filter(pk=todo[1].pk).update(due_at=timezone.now() - timezone.timedelta(hours=1))
    assert selectors.summary(director)["overdue"] == 1
    assert actions.mark_read(todo[0].pk, director) is True
    assert actions.mark_read(todo[0].pk, director) is False
    assert selectors.summary(director)["unread"] == 1
    assert selectors.has_task(director, normal.pk)
    assert not selectors.has_task(demo.user("mayor"), normal.pk)
    actions.approve(todo[0].pk, director)
    assert [t.pk for t in selectors.done_tasks(director)] == [todo[0].pk]
    assert Document.objects.get(pk=urgent.pk).status == "in_progress"
    assert Task.objects.filter(state=TaskState.OPEN, assignee__username="leader1").count() == 1
