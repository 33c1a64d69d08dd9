"""Return, transfer, add countersigner, withdraw, admin move, batch: rules and
refusal codes (docs/workflow.md#actions)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.audit.models import AuditEvent
from api.common.errors import ApiError
from api.workdays import add_working_seconds
from api.workflow import actions, selectors
from api.workflow.models import InstanceState, Task, TaskState, TemplateStep, WorkflowTemplate


def _code(call, *args, **kwargs) -> tuple[str, int]:
    with pytest.raises(ApiError) as error:
        call(*args, **kwargs)
    return error.value.code, error.value.status_code


def _to_countersign(demo, outgoing, **kw):
    document, instance = outgoing(**kw)
    actions.approve(demo.open_task("director", document).pk, demo.user("director"))
    return document, instance


# --- return -----------------------------------------------------------------------------------


def test_return_to_previous_step_pauses_and_resumes_the_clock(demo, outgoing):
    document, _ = _to_countersign(demo, outgoing)
    leader2 = demo.open_task("leader2", document)
    actions.approve(demo.open_task("leader1", document).pk, demo.user("leader1"))
    assert _code(actions.return_task, leader2.pk, demo.user("leader2"), "  ") == (
        "opinion_required",
        422,
    )
    assert _code(actions.return_task, leader2.pk, demo.user("leader2"), "x", "sender")[0] == (
        "return_target_invalid"
    )
    actions.return_task(leader2.pk, demo.user("leader2"), "数据需核实")
    leader2.refresh_from_db()
    assert leader2.state == TaskState.RETURNED and leader2.paused_at is not None
    leader3 = Task.objects.get(document=document, assignee__username="leader3")
    assert leader3.state == TaskState.CANCELLED and leader3.action == "cancelled_by_return"
    again = demo.open_task("director", document)
    assert again.step_kind == "review" and again.sender == demo.user("leader2")

    # the director re-approves: all three countersign again; leader2's clock resumes
    Task.objects.filter(pk=leader2.pk).update(paused_at=leader2.paused_at - timedelta(hours=2))
    actions.approve(again.pk, demo.user("director"))
    leader2.refresh_from_db()
    assert leader2.paused_at is None and leader2.paused_seconds > 0
    resumed = demo.open_task("leader2", document)
    # pushed back by the pause, but never after the document's own due time (a return to
    # the previous step does not pause the document: docs/workflow.md#document-time-limits)
    document.refresh_from_db()
    assert resumed.due_at == min(
        add_working_seconds(leader2.due_at, leader2.paused_seconds), document.due_at
    )
    assert {t.assignee.username for t in Task.objects.filter(document=document, state="open")} == {
        "leader1",
        "leader2",
        "leader3",
    }
    opinions = [e["opinion"] for e in selectors.trail(document)]
    assert opinions.count("数据需核实") == 1


def test_return_to_drafter_ends_the_run_and_resubmit_works(demo, outgoing):
    document, instance = outgoing()
    review = demo.open_task("director", document)
    actions.return_task(review.pk, demo.user("director"), "请修改标题", to="drafter")
    instance.refresh_from_db()
    document.refresh_from_db()
    assert instance.state == InstanceState.RETURNED and document.status == "returned"
    second = actions.submit(
        document.pk,
        demo.user("clerk"),
        demo.template("市政府办公室发文").pk,
        {"sign_off_by": demo.user("mayor").pk},
    )
    assert second.pk != instance.pk
    assert demo.open_task("director", document).instance_id == second.pk
    # the first run stays in the trail
    assert "请修改标题" in [e["opinion"] for e in selectors.trail(document)]


# --- transfer ---------------------------------------------------------------------------------


def test_transfer(demo, outgoing):
    document, _ = outgoing()
    review = demo.open_task("director", document)
    director = demo.user("director")
    assert _code(actions.transfer, review.pk, director, director.pk)[0] == "transfer_to_self"
    assert _code(actions.transfer, review.pk, director, 10**9)[0] == "participant_out_of_scope"
    new = actions.transfer(review.pk, director, demo.user("office_admin").pk, "请代为核稿")
    assert new.sender == director and new.assignee == demo.user("office_admin")
    assert new.due_at == review.due_at
    review.refresh_from_db()
    assert review.state == TaskState.TRANSFERRED and review.opinion == "请代为核稿"
    assert _code(actions.approve, review.pk, director) == ("task_not_open", 409)
    actions.approve(new.pk, demo.user("office_admin"))
    assert demo.open_task("leader1", document).sender == demo.user("office_admin")


# --- add countersigner --------------------------------------------------------------------------


def test_add_countersigner(demo, outgoing):
    document, _ = _to_countersign(demo, outgoing, countersigners=("leader1", "leader2"))
    review = Task.objects.get(document=document, step_kind="review")
    assert _code(actions.add_countersigner, review.pk, demo.user("director"), [1])[0] == (
        "not_countersign_step"
    )
    leader1 = demo.open_task("leader1", document)
    code = _code(
        actions.add_countersigner, leader1.pk, demo.user("leader1"), [demo.user("leader2").pk]
    )
    assert code[0] == "already_assigned"
    added = actions.add_countersigner(leader1.pk, demo.user("leader1"), [demo.user("leader3").pk])
    assert len(added) == 1 and added[0].state == TaskState.OPEN
    assert added[0].sender == demo.user("leader1")
    # the sender (director) may add too, through any task of the step
    actions.add_countersigner(leader1.pk, demo.user("director"), [demo.user("deputy1").pk])
    # someone else may not
    code = _code(actions.add_countersigner, leader1.pk, demo.user("custodian"), [1])
    assert code == ("not_found", 404)
    for name in ("leader1", "leader2", "leader3"):
        actions.approve(demo.open_task(name, document).pk, demo.user(name))
    assert not Task.objects.filter(document=document, step_kind="sign_off").exists()
    actions.approve(demo.open_task("deputy1", document).pk, demo.user("deputy1"))
    assert demo.open_task("mayor", document).step_kind == "sign_off"


def test_the_signer_never_countersigns(demo, outgoing):
    """会签 and 签发 by the same hand is refused at submission and at 加签, and nothing
    starts: the draft stays a draft."""
    mayor = demo.user("mayor")
    document = demo.draft()
    template = demo.template("市政府办公室发文")
    with pytest.raises(ApiError) as error:
        actions.submit(
            document.pk,
            demo.user("clerk"),
            template.pk,
            {"countersigners": [demo.user("leader1").pk, mayor.pk], "sign_off_by": mayor.pk},
        )
    assert error.value.code == "countersigner_signs_off" and error.value.status_code == 422
    assert error.value.fields == {"sign_off_by": [str(mayor.pk)]}
    document.refresh_from_db()
    assert document.status == "draft" and not Task.objects.filter(document=document).exists()

    document, _ = _to_countersign(demo, outgoing, countersigners=("leader1",))
    leader1 = demo.open_task("leader1", document)
    code = _code(actions.add_countersigner, leader1.pk, demo.user("leader1"), [mayor.pk])
    assert code == ("countersigner_signs_off", 422)
    assert not Task.objects.filter(document=document, assignee=mayor).exists()


# --- withdraw ---------------------------------------------------------------------------------


def test_withdraw_after_submit_while_untouched(demo, outgoing):
    document, instance = outgoing()
    review = demo.open_task("director", document)
    actions.mark_read(review.pk, demo.user("director"))  # reading does not count
    allowed = selectors.allowed_actions(review, demo.user("clerk"))["withdraw"]
    assert allowed == {"allowed": True}
    assert _code(actions.withdraw, document.pk, demo.user("director")) == ("not_sender", 403)
    assert AuditEvent.objects.filter(action="workflow.withdraw", result="denied").exists()
    actions.withdraw(document.pk, demo.user("clerk"))
    instance.refresh_from_db()
    document.refresh_from_db()
    review.refresh_from_db()
    assert instance.state == InstanceState.WITHDRAWN and document.status == "withdrawn"
    assert review.state == TaskState.CANCELLED
    assert _code(actions.withdraw, document.pk, demo.user("clerk"))[0] == "instance_not_running"


def test_withdraw_is_refused_once_the_next_step_is_touched(demo, outgoing):
    document, _ = _to_countersign(demo, outgoing)
    director = demo.user("director")
    # the director sent it to countersign and nobody has acted: the director may pull it back
    leader1 = demo.open_task("leader1", document)
    assert selectors.allowed_actions(leader1, director)["withdraw"]["allowed"]
    actions.approve(leader1.pk, demo.user("leader1"))
    verdict = selectors.allowed_actions(leader1, director)["withdraw"]
    assert verdict["allowed"] is False and verdict["code"] == "next_step_started"
    assert verdict["reason"]
    assert _code(actions.withdraw, document.pk, director) == ("next_step_started", 409)
    assert _code(actions.withdraw, document.pk, demo.user("clerk")) == ("not_sender", 403)


def test_sender_withdraws_the_next_step_back_to_their_own(demo, outgoing):
    document, _ = _to_countersign(demo, outgoing)
    actions.withdraw(document.pk, demo.user("director"))
    reopened = demo.open_task("director", document)
    assert reopened.step_kind == "review" and reopened.sender == demo.user("clerk")
    assert not Task.objects.filter(document=document, step_kind="countersign", state="open")
    # and the clerk may now withdraw the whole document again (review untouched)
    actions.withdraw(document.pk, demo.user("clerk"))
    document.refresh_from_db()
    assert document.status == "withdrawn"


# --- admin move ---------------------------------------------------------------------------------


def test_admin_move_keeps_every_opinion(demo, outgoing):
    document, instance = _to_countersign(demo, outgoing)
    actions.approve(demo.open_task("leader1", document).pk, demo.user("leader1"), "同意此稿")
    code = _code(actions.admin_move, document.pk, demo.user("director"), 3, "领导出差")
    assert code == ("permission_denied", 403)
    admin = demo.user("office_admin")
    assert _code(actions.admin_move, document.pk, admin, 3, "")[0] == "reason_required"
    assert _code(actions.admin_move, document.pk, admin, 99, "x")[0] == "step_not_found"
    actions.admin_move(document.pk, admin, 3, "两位副市长出差，直接签发")
    assert demo.open_task("mayor", document).step_kind == "sign_off"
    states = dict(
        Task.objects.filter(document=document, step_kind="countersign").values_list(
            "assignee__username", "state"
        )
    )
    assert states == {"leader1": "done", "leader2": "cancelled", "leader3": "cancelled"}
    trail = selectors.trail(document)
    assert [e["opinion"] for e in trail].count("同意此稿") == 1
    assert {e["action"] for e in trail if e["state"] == "cancelled"} == {"admin_moved"}
    event = AuditEvent.objects.get(action="workflow.admin_moved")
    assert event.detail["reason"] == "两位副市长出差，直接签发"
    # a unit admin of another unit cannot even see it
    assert _code(actions.admin_move, document.pk, demo.user("b_admin"), 1, "x")[1] == 404
    instance.refresh_from_db()
    assert instance.current_step_order == 3


# --- batch ------------------------------------------------------------------------------------


def test_batch_approve(demo, outgoing):
    docs = [_to_countersign(demo, outgoing, title=f"件{i}")[0] for i in range(3)]
    leader1 = demo.user("leader1")
    ids = [demo.open_task("leader1", d).pk for d in docs]
    review_of_other = outgoing(title="未核稿")[0]
    review_task = demo.open_task("director", review_of_other)
    results = actions.batch_approve([*ids, review_task.pk, ids[0]], leader1)
    assert [r["ok"] for r in results] == [True, True, True, False]
    assert results[3]["code"] == "not_found"
    director_result = actions.batch_approve([review_task.pk], demo.user("director"))
    assert director_result[0]["code"] == "not_batchable" and director_result[0]["message"]
    assert _code(actions.batch_approve, list(range(1, 102)), leader1)[0] == "batch_too_large"
    assert Task.objects.get(pk=ids[0]).opinion == "同意"


# --- allowed actions ------------------------------------------------------------------------------


def test_allowed_actions_explain_refusals(demo, outgoing):
    document, _ = _to_countersign(demo, outgoing)
    task = selectors.todo_tasks(demo.user("leader1")).get(document=document)
    verdicts = selectors.allowed_actions(task, demo.user("leader1"))
    assert set(verdicts) == {
        "approve",
        "return",
        "transfer",
        "add_countersigner",
        "acknowledge",
        "withdraw",
        "batch_approve",
        "seal",
        "distribute",
    }
    assert verdicts["seal"]["code"] == "not_seal_step"  # sealed via POST …/seal/ only
    assert verdicts["distribute"]["code"] == "not_distribute_step"  # the exchange dispatch
    for name in ("approve", "return", "transfer", "add_countersigner", "batch_approve"):
        assert verdicts[name] == {"allowed": True}, name
    assert verdicts["acknowledge"]["code"] == "not_circulation_step"
    assert verdicts["withdraw"]["code"] == "not_sender"
    actions.approve(task.pk, demo.user("leader1"))
    task.refresh_from_db()
    assert selectors.allowed_actions(task, demo.user("leader1"))["approve"]["code"] == (
        "task_not_open"
    )
    review = Task.objects.get(document=document, step_kind="review")
    verdicts = selectors.allowed_actions(review, demo.user("director"))
    assert verdicts["add_countersigner"]["code"] == "not_countersign_step"
    assert verdicts["batch_approve"]["code"] == "task_not_open"
    assert selectors.allowed_actions(review, demo.user("mayor"))["approve"]["code"] == (
        "not_your_task"
    )


# --- countersign modes ----------------------------------------------------------------------------


def _mode_template(demo, mode: str) -> WorkflowTemplate:
    template = WorkflowTemplate.objects.create(
        unit=demo.unit("XC-OFF"), name=f"会签-{mode}", direction="outgoing"
    )
    TemplateStep.objects.create(
        template=template,
        order=1,
        kind="countersign",
        name="会签",
        assignee_kind="drafter_choice",
        choice_key="countersigners",
        countersign_mode=mode,
        standard_opinion="同意",
    )
    TemplateStep.objects.create(
        template=template,
        order=2,
        kind="sign_off",
        name="签发",
        assignee_kind="user",
        user=demo.user("mayor"),
        standard_opinion="同意",
    )
    return template


@pytest.mark.parametrize("mode", ["sequential", "any"])
def test_countersign_modes(demo, mode):
    template = _mode_template(demo, mode)
    document = demo.draft()
    ids = [demo.user(n).pk for n in ("leader1", "leader2", "leader3")]
    actions.submit(document.pk, demo.user("clerk"), template.pk, {"countersigners": ids})
    states = lambda: dict(  # noqa: E731
        Task.objects.filter(document=document, step_kind="countersign").values_list(
            "assignee__username", "state"
        )
    )
    if mode == "sequential":
        assert states() == {"leader1": "open", "leader2": "waiting", "leader3": "waiting"}
        actions.approve(demo.open_task("leader1", document).pk, demo.user("leader1"))
        assert states() == {"leader1": "done", "leader2": "open", "leader3": "waiting"}
        assert demo.open_task("leader2", document).sender == demo.user("leader1")
        actions.approve(demo.open_task("leader2", document).pk, demo.user("leader2"))
        actions.approve(demo.open_task("leader3", document).pk, demo.user("leader3"))
    else:
        assert set(states().values()) == {"open"}
        actions.approve(demo.open_task("leader2", document).pk, demo.user("leader2"))
        assert states() == {"leader1": "cancelled", "leader2": "done", "leader3": "cancelled"}
    assert demo.open_task("mayor", document).step_kind == "sign_off"
    assert len(Task.objects.filter(document=document, step_kind="sign_off")) == 1


def test_number_step_performed_by_a_clerk(demo):
    from api.accounts.models import Post

    template = WorkflowTemplate.objects.create(
        unit=demo.unit("XC-OFF"), name="人工编号", direction="outgoing"
    )
    TemplateStep.objects.create(
        template=template,
        order=1,
        kind="number",
        name="编号",
        assignee_kind="post",
        post=Post.objects.get(unit=demo.unit("XC-OFF"), name="收发文员"),
        standard_opinion="已编号",
    )
    document = demo.draft()
    instance = actions.submit(
        document.pk, demo.user("clerk"), template.pk, {"recipients": [demo.unit("XC").pk]}
    )
    task = demo.open_task("clerk", document)
    document.refresh_from_db()
    assert document.doc_number == ""  # assigned at the number step, not earlier
    actions.approve(task.pk, demo.user("clerk"))
    task.refresh_from_db()
    document.refresh_from_db()
    assert task.detail["doc_number"] == document.doc_number and document.doc_number
    assert task.opinion == "已编号"
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    assert instance.participants == {"recipients": [demo.unit("XC").pk]}
