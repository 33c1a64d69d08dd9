"""The publishing flow over the API: draft, review, publish, return, withdraw,
versions, and who may do each. Docs: docs/publishing.md#the-flow."""

from __future__ import annotations

from api.audit.models import AuditEvent
from api.publishing.models import Post, PostState, PostVersion
from tests.api.publishing.conftest import BODY, publish
from tests.personas import client_for


def test_draft_submit_return_resubmit_publish(world, org):
    editor, publisher = client_for(world.editor), client_for(world.publisher)
    created = editor.post(
        "/api/v1/posts/",
        {"channel": world.channel.pk, "title": "工作动态一则", "body": BODY},
        format="json",
    )
    assert created.status_code == 201
    post = created.json()
    assert post["state"] == "draft"
    assert post["author_unit"]["id"] == org.office.pk  # the department writes for its body
    assert post["audience"] == {"kind": "subtree", "unit_ids": [org.office.pk]}
    post_id = post["id"]
    # The editor may not publish; the publisher sees it in the review box once submitted.
    assert editor.post(f"/api/v1/posts/{post_id}/publish/", {}, format="json").status_code == 403
    assert editor.post(f"/api/v1/posts/{post_id}/submit/", {}, format="json").status_code == 200
    review = publisher.get("/api/v1/posts/?box=review").json()["results"]
    assert [p["id"] for p in review] == [post_id]
    # Return with an opinion, fix, resubmit, publish.
    assert publisher.post(f"/api/v1/posts/{post_id}/return/", {}, format="json").status_code == 400
    returned = publisher.post(
        f"/api/v1/posts/{post_id}/return/", {"opinion": "请补充时间要求"}, format="json"
    )
    assert returned.json()["state"] == "returned"
    assert returned.json()["review_opinion"] == "请补充时间要求"
    patch = editor.patch(
        f"/api/v1/posts/{post_id}/", {"title": "工作动态一则（修改）"}, format="json"
    )
    assert patch.status_code == 200, patch.content
    assert editor.post(f"/api/v1/posts/{post_id}/submit/", {}, format="json").status_code == 200
    published = publisher.post(
        f"/api/v1/posts/{post_id}/publish/", {"opinion": "同意"}, format="json"
    )
    assert published.status_code == 200
    assert published.json()["state"] == "published"
    # The editor can no longer edit it; the publisher can.
    assert (
        editor.patch(f"/api/v1/posts/{post_id}/", {"title": "x"}, format="json").status_code == 403
    )
    actions = list(
        AuditEvent.objects.filter(object_type="publishing.post", object_id=str(post_id))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[:1] == ["post.created"]
    for expected in ("post.submitted", "post.returned", "post.updated", "post.published"):
        assert expected in actions
    assert AuditEvent.objects.filter(action="post.publish", result="denied").exists()


def test_edit_after_publishing_keeps_versions(world, org):
    post_id = publish(world, {"kind": "city"})
    publisher = client_for(world.publisher)
    response = publisher.patch(
        f"/api/v1/posts/{post_id}/",
        {"body": [{"level": 0, "text": "更正：请于周五前报送。"}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    old = PostVersion.objects.get(post_id=post_id)
    assert old.version == 1 and old.snapshot["body"] == BODY
    versions = publisher.get(f"/api/v1/posts/{post_id}/versions/").json()["results"]
    assert [v["version"] for v in versions] == [1]
    # A reader does not see the history.
    assert client_for(world.reader).get(f"/api/v1/posts/{post_id}/versions/").status_code == 404


def test_withdraw_needs_a_reason_and_hides_the_post(world):
    post_id = publish(world, {"kind": "city"})
    reader, publisher = client_for(world.reader), client_for(world.publisher)
    assert reader.get(f"/api/v1/posts/{post_id}/").status_code == 200
    assert (
        reader.post(
            f"/api/v1/posts/{post_id}/withdraw/", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )
    assert (
        publisher.post(f"/api/v1/posts/{post_id}/withdraw/", {}, format="json").status_code == 400
    )
    done = publisher.post(
        f"/api/v1/posts/{post_id}/withdraw/", {"reason": "内容有误"}, format="json"
    )
    assert done.status_code == 200 and done.json()["withdraw_reason"] == "内容有误"
    assert reader.get(f"/api/v1/posts/{post_id}/").status_code == 404
    again = publisher.post(f"/api/v1/posts/{post_id}/withdraw/", {"reason": "再撤"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "post_state_conflict"
    assert Post.objects.get(pk=post_id).state == PostState.WITHDRAWN


def test_unit_channel_is_closed_to_other_units(world, org):
    from api.publishing.models import Channel

    channel = Channel.objects.create(name="发改简报", code="drc-journal", unit=org.bureau)
    response = client_for(world.editor).post(
        "/api/v1/posts/", {"channel": channel.pk, "title": "x"}, format="json"
    )
    assert response.status_code == 403
    response = client_for(world.reader).post(
        "/api/v1/posts/", {"channel": channel.pk, "title": "发改简报第1期"}, format="json"
    )
    assert response.status_code == 201


def test_bad_input_is_4xx(world):
    editor = client_for(world.editor)
    for body in (
        {"channel": world.channel.pk},
        {"channel": world.channel.pk, "title": "x", "body": "text"},
        {"channel": world.channel.pk, "title": "x", "audience": {"kind": "units", "unit_ids": []}},
        {
            "channel": world.channel.pk,
            "title": "x",
            "audience": {"kind": "units", "unit_ids": [999999]},
        },
        {
            "channel": world.channel.pk,
            "title": "x",
            "audience": {"kind": "roles", "roles": ["boss"]},
        },
        {"channel": world.channel.pk, "title": "x", "colour": "red"},
        {"channel": 999999, "title": "x"},
    ):
        response = editor.post("/api/v1/posts/", body, format="json")
        assert 400 <= response.status_code < 500, (body, response.content)
    assert Post.objects.count() == 0
