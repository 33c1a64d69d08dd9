"""Incoming documents: sign for → register → preliminary review → handle → circulate
→ reply, and the return to the sending unit at preliminary review."""

from __future__ import annotations

import pytest

from api.common.errors import ApiError
from api.workflow import actions, selectors
from api.workflow.models import InstanceState, Task, TaskState


def _incoming(demo, readers=("leader1", "leader2")):
    document = demo.draft(direction="incoming", title="关于报送年度工作总结的函", doc_type="letter")
    instance = actions.submit(
        document.pk,
        demo.user("clerk"),
        demo.template("市政府办公室收文").pk,
        {
            "handler": demo.user("office_staff").pk,
            "readers": [demo.user(n).pk for n in readers],
        },
    )
    return document, instance


def test_incoming_flow_with_circulation(demo):
    document, instance = _incoming(demo)
    for kind in ("sign_for", "register"):
        task = demo.open_task("clerk", document)
        assert task.step_kind == kind
        actions.approve(task.pk, demo.user("clerk"))
    actions.approve(demo.open_task("director", document).pk, demo.user("director"), "请赵丽承办")
    handle = demo.open_task("office_staff", document)
    assert handle.step_kind == "handle"
    with pytest.raises(ApiError) as error:
        actions.acknowledge(handle.pk, demo.user("office_staff"))
    assert error.value.code == "not_circulation_step"
    actions.approve(handle.pk, demo.user("office_staff"), "已按要求报送")

    leader1 = demo.open_task("leader1", document)
    verdicts = selectors.allowed_actions(leader1, demo.user("leader1"))
    assert verdicts["acknowledge"] == {"allowed": True}
    assert verdicts["return"]["code"] == "circulation_step"
    actions.acknowledge(leader1.pk, demo.user("leader1"))
    leader1.refresh_from_db()
    assert leader1.opinion == "已阅" and leader1.action == "acknowledge"
    # only the one who started the circulation may end it
    with pytest.raises(ApiError) as error:
        actions.end_circulation(document.pk, demo.user("leader1"))
    assert error.value.code == "not_sender"
    actions.end_circulation(document.pk, demo.user("office_staff"))
    unread = Task.objects.get(document=document, assignee__username="leader2")
    assert unread.state == TaskState.CANCELLED and unread.action == "circulation_ended"

    reply = demo.open_task("office_staff", document)
    assert reply.step_kind == "reply"
    actions.approve(reply.pk, demo.user("office_staff"))
    instance.refresh_from_db()
    assert instance.state == InstanceState.COMPLETED
    document.refresh_from_db()
    assert document.doc_number == ""  # incoming documents are never numbered


def test_all_acknowledged_completes_the_circulation(demo):
    document, _ = _incoming(demo)
    for name in ("clerk", "clerk", "director", "office_staff"):
        actions.approve(demo.open_task(name, document).pk, demo.user(name))
    actions.approve(demo.open_task("leader1", document).pk, demo.user("leader1"))  # = 已阅
    actions.acknowledge(demo.open_task("leader2", document).pk, demo.user("leader2"))
    assert demo.open_task("office_staff", document).step_kind == "reply"


def test_preliminary_review_returns_to_the_sender(demo):
    document, instance = _incoming(demo)
    for name in ("clerk", "clerk"):
        actions.approve(demo.open_task(name, document).pk, demo.user(name))
    review = demo.open_task("director", document)
    assert review.step_kind == "preliminary_review"
    actions.return_task(review.pk, demo.user("director"), "不属于本机关职权范围", to="sender")
    instance.refresh_from_db()
    document.refresh_from_db()
    assert instance.state == InstanceState.RETURNED and document.status == "returned"
    entry = [e for e in selectors.trail(document) if e["state"] == "returned"]
    assert entry[0]["opinion"] == "不属于本机关职权范围"
    assert not Task.objects.filter(document=document, state=TaskState.OPEN).exists()


def test_preliminary_review_returns_to_the_sender_over_http(demo):
    from tests.personas import client_for

    document, instance = _incoming(demo)
    for name in ("clerk", "clerk"):
        actions.approve(demo.open_task(name, document).pk, demo.user(name))
    review = demo.open_task("director", document)
    response = client_for(demo.user("director")).post(
        f"/api/v1/tasks/{review.pk}/return/",
        {"opinion": "不属于本机关职权范围", "to": "sender"},
        format="json",
    )
    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    assert instance.state == InstanceState.RETURNED


def test_numbering_queues_the_render_after_commit(demo, django_capture_on_commit_callbacks):
    from unittest import mock

    document = demo.draft(title="关于做好冬季安全生产工作的通知")
    actions.submit(
        document.pk,
        demo.user("clerk"),
        demo.template("市政府办公室发文").pk,
        {"countersigners": [demo.user("leader1").pk], "sign_off_by": demo.user("mayor").pk},
    )
    for name in ("director", "leader1"):
        actions.approve(demo.open_task(name, document).pk, demo.user(name))
    with (
        mock.patch("api.documents.tasks.render_document.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        actions.approve(demo.open_task("mayor", document).pk, demo.user("mayor"))
    document.refresh_from_db()
    assert document.doc_number
    delay.assert_called_once_with(document.pk)
