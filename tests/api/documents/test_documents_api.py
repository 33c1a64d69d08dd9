"""Drafting, reading, editing and the version history (docs/documents.md)."""

from __future__ import annotations

import uuid

import pytest

from api.documents import actions
from api.documents.models import Document, DocumentVersion
from tests.api.documents.conftest import DRAFT, code, events

pytestmark = pytest.mark.django_db


def test_create_draft_defaults_and_audit(as_, personas, org):
    response = as_("bob").post(
        "/api/v1/documents/", DRAFT, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["doc_number"] == ""
    assert body["classification"] == "none"
    assert body["urgency"] == "normal"
    assert body["unit"] == {"id": org.office.pk, "name": org.office.name}
    assert body["drafter"]["id"] == personas["bob"].pk
    assert body["body"] == DRAFT["body"]
    assert body["attachments"] == []
    assert body["permissions"] == {"edit": True, "void_number": False}
    assert response["ETag"].startswith('"')
    assert response["Location"] == f"/api/v1/documents/{body['id']}/"
    (event,) = events("document.created")
    assert event.object_id == str(body["id"]) and event.unit_id == org.office.pk
    version = DocumentVersion.objects.get(document_id=body["id"])
    assert version.version == 1 and version.changed_fields == ["created"]


def test_create_is_idempotent_with_a_key(as_):
    key = uuid.uuid4().hex
    client = as_("bob")
    first = client.post("/api/v1/documents/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/documents/", DRAFT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Document.objects.count() == 1


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"doc_type": "poem"}, "doc_type"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": [{"level": 5, "text": "x"}]}, "body"),
        ({"body": [{"level": 0, "text": "x", "style": "bold"}]}, "body"),
        ({"body": "一段话"}, "body"),
        ({"body": [{"level": 0, "text": "x"}] * 2001}, "body"),
        ({"body": [{"level": True, "text": "x"}]}, "body"),
        ({"body": [{"level": 0, "text": "a\x00b"}]}, "body"),
        ({"unit": 999999}, "unit"),
    ],
)
def test_create_refuses_bad_input(as_, patch, field):
    response = as_("bob").post("/api/v1/documents/", {**DRAFT, **patch}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Document.objects.count() == 0


def test_create_refuses_unknown_and_read_only_fields(as_):
    for extra in ({"doc_number": "新府发〔2026〕1号"}, {"status": "completed"}, {"x": 1}):
        response = as_("bob").post("/api/v1/documents/", {**DRAFT, **extra}, format="json")
        assert response.status_code == 400 and code(response) == "unknown_field"


def test_create_for_another_body_is_refused(as_, org):
    response = as_("bob").post(
        "/api/v1/documents/", {**DRAFT, "unit": org.bureau.pk}, format="json"
    )
    assert response.status_code == 400 and "unit" in response.json()["error"]["fields"]


def test_visibility_and_cross_unit_404(as_, draft, personas):
    doc = draft("bob")
    url = f"/api/v1/documents/{doc['id']}/"
    # Drafter, a leader and the unit admin of the body, the city IT admin, a supervisor.
    for persona in ("bob", "leo", "alice", "ivy", "sam"):
        assert as_(persona).get(url).status_code == 200, persona
    # Another unit's staff and another unit's admin: 404, recorded as denied.
    for persona in ("charlie", "dana"):
        response = as_(persona).get(url)
        assert response.status_code == 404 and code(response) == "not_found"
    denied = events("document.access_denied", "denied")
    assert {e.actor_username for e in denied} == {"charlie", "dana"}
    # Lists agree with the detail.
    assert [d["id"] for d in as_("leo").get("/api/v1/documents/").json()["results"]] == [doc["id"]]
    assert as_("charlie").get("/api/v1/documents/").json()["results"] == []
    assert as_("dana").get("/api/v1/documents/").json()["results"] == []


def test_plain_staff_of_the_same_unit_sees_only_own_drafts(as_, draft, org):
    from tests.personas import Role, client_for, make_user

    other_staff = make_user("olga", org.office, Role.STAFF)
    doc = draft("bob")
    client = client_for(other_staff)
    assert client.get(f"/api/v1/documents/{doc['id']}/").status_code == 404
    assert client.get("/api/v1/documents/").json()["results"] == []


def test_list_filters(as_, draft):
    a = draft("bob", title="关于春节值班的通知")
    b = draft("bob", title="市政府工作报告", doc_type="report", direction="incoming")
    client = as_("bob")

    def ids(query: str) -> list[int]:
        response = client.get("/api/v1/documents/" + query)
        assert response.status_code == 200, response.content
        return [d["id"] for d in response.json()["results"]]

    assert ids("") == [b["id"], a["id"]]
    assert ids("?direction=incoming") == [b["id"]]
    assert ids("?q=春节") == [a["id"]]
    assert ids("?status=draft") == [b["id"], a["id"]]
    assert ids("?status=completed") == []
    assert client.get("/api/v1/documents/?status=bogus").status_code == 400
    assert client.get("/api/v1/documents/?mine=maybe").status_code == 400
    assert client.get("/api/v1/documents/?q=" + "x" * 101).status_code == 400


def test_mine_lists_what_i_drafted(as_, draft):
    """我的发文: the drafter's own documents, not the unit's others they may also see."""
    own = draft("bob", title="我起草的通知")
    other = draft("alice", title="别人起草的通知")

    def ids(persona: str, query: str) -> list[int]:
        response = as_(persona).get("/api/v1/documents/" + query)
        assert response.status_code == 200, response.content
        return [d["id"] for d in response.json()["results"]]

    assert other["id"] in ids("alice", "") and own["id"] in ids("alice", "")
    assert ids("alice", "?mine=true") == [other["id"]]
    assert ids("bob", "?mine=true") == [own["id"]]
    assert set(ids("alice", "?mine=false")) == set(ids("alice", ""))


def test_patch_creates_a_version_with_changed_fields(as_, draft, personas):
    doc = draft("bob")
    url = f"/api/v1/documents/{doc['id']}/"
    doc_etag = as_("bob").get(url)["ETag"]
    response = as_("bob").patch(
        url, {"title": "新标题", "urgency": "urgent", "cc": DRAFT.get("cc", "")}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response["ETag"] != doc_etag
    assert as_("bob").get(url)["ETag"] == response["ETag"]
    history = as_("bob").get(url + "versions/").json()["results"]
    assert [v["version"] for v in history] == [2, 1]
    assert sorted(history[0]["changed_fields"]) == ["title", "urgency"]  # cc did not change
    assert history[0]["edited_by"]["id"] == personas["bob"].pk
    assert history[0]["snapshot"]["title"] == "新标题"
    assert history[1]["snapshot"]["title"] == DRAFT["title"]
    (event,) = events("document.updated")
    assert event.detail["changed_fields"] == ["title", "urgency"]


def test_patch_that_changes_nothing_keeps_the_version(as_, draft):
    doc = draft("bob")
    response = as_("bob").patch(
        f"/api/v1/documents/{doc['id']}/", {"title": DRAFT["title"]}, format="json"
    )
    assert response.status_code == 200 and response.json()["version"] == 1
    assert DocumentVersion.objects.count() == 1


def test_clerk_of_the_unit_may_edit_a_leader_may_not(as_, draft, org):
    from tests.personas import Role, client_for, make_user

    staff = make_user("sally", org.office, Role.STAFF)
    response = client_for(staff).post("/api/v1/documents/", DRAFT, format="json")
    url = f"/api/v1/documents/{response.json()['id']}/"
    assert as_("bob").patch(url, {"title": "书记员修改"}, format="json").status_code == 200
    leo = as_("leo")
    assert leo.get(url).json()["permissions"]["edit"] is False
    response = leo.patch(url, {"title": "领导改"}, format="json")
    assert response.status_code == 403 and code(response) == "permission_denied"
    assert events("document.update", "denied")
    assert as_("charlie").patch(url, {"title": "x"}, format="json").status_code == 404


def test_expected_version_and_if_match(as_, draft):
    doc = draft("bob")
    url = f"/api/v1/documents/{doc['id']}/"
    client = as_("bob")
    etag_v1 = client.get(url)["ETag"]
    ok = client.patch(url, {"title": "第二版", "expected_version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(url, {"title": "第三版", "expected_version": 1}, format="json")
    assert stale.status_code == 409 and code(stale) == "version_conflict"
    assert stale.json()["error"]["current_version"] == 2
    stale = client.patch(url, {"title": "第三版"}, format="json", HTTP_IF_MATCH=etag_v1)
    assert stale.status_code == 409 and code(stale) == "version_conflict"
    fresh = client.patch(url, {"title": "第三版"}, format="json", HTTP_IF_MATCH="W/" + ok["ETag"])
    assert fresh.status_code == 200 and fresh.json()["version"] == 3
    assert client.patch(url, {"title": "四"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert Document.objects.get().title == "四"


def test_only_draft_or_returned_is_editable(as_, draft, personas):
    doc = draft("bob")
    url = f"/api/v1/documents/{doc['id']}/"
    document = Document.objects.get(pk=doc["id"])
    actions.set_status(document, "in_progress")
    assert document.version == 2
    response = as_("bob").patch(url, {"title": "流转中修改"}, format="json")
    assert response.status_code == 409 and code(response) == "document_not_editable"
    assert as_("bob").get(url).json()["permissions"]["edit"] is False
    actions.set_status(document, "returned")
    assert as_("bob").patch(url, {"title": "退回后修改"}, format="json").status_code == 200
    history = DocumentVersion.objects.filter(document=document).order_by("version")
    assert [v.changed_fields for v in history] == [["created"], ["status"], ["status"], ["title"]]
    assert history[1].edited_by is None  # the engine's change


def test_set_status_refuses_unknown_status(draft):
    doc = Document.objects.get(pk=draft("bob")["id"])
    with pytest.raises(ValueError):
        actions.set_status(doc, "lost")


def test_patch_refuses_unknown_fields_and_direction(as_, draft):
    doc = draft("bob")
    url = f"/api/v1/documents/{doc['id']}/"
    for body in ({"direction": "incoming"}, {"doc_number": "x"}, {"unit": 1}, {"version": 9}):
        response = as_("bob").patch(url, body, format="json")
        assert response.status_code == 400 and code(response) == "unknown_field", body


def test_missing_document_is_404(as_):
    for url in ("/api/v1/documents/999999/", "/api/v1/documents/999999/versions/"):
        assert as_("bob").get(url).status_code == 404
    assert as_("bob").get("/api/v1/documents/99999999999999999999/").status_code == 404


def test_detail_answers_if_none_match_with_304(as_, draft):
    doc = draft("bob")
    url = f"/api/v1/documents/{doc['id']}/"
    first = as_("bob").get(url)
    again = as_("bob").get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    as_("bob").patch(url, {"title": "改"}, format="json")
    assert as_("bob").get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
