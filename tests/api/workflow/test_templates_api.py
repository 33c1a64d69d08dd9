"""/api/v1/workflow-templates/: visibility, unit-admin CRUD, copy on write, audit,
query budget (docs/workflow.md#templates-api)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from api.accounts.models import Post
from api.audit.models import AuditEvent
from api.workflow import actions
from api.workflow.models import WorkflowTemplate
from tests.personas import client_for

URL = "/api/v1/workflow-templates/"


def _steps(demo):
    director_post = Post.objects.get(unit=demo.unit("XC-OFF"), name="办公室主任")
    return [
        {"kind": "review", "assignee_kind": "post", "post": director_post.pk},
        {
            "kind": "sign_off",
            "name": "签发",
            "assignee_kind": "drafter_choice",
            "choice_key": "sign_off_by",
            "standard_opinion": "同意",
        },
        {"kind": "number", "assignee_kind": "auto"},
    ]


def test_list_shows_own_and_inherited_templates(demo, django_assert_max_num_queries):
    city = demo.unit("XC")
    WorkflowTemplate.objects.create(unit=city, name="全市通用发文", direction="outgoing")
    client = client_for(demo.user("office_staff"))  # in a department of the office
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.status_code == 200
    names = {t["name"] for t in response.json()["results"]}
    assert names == {"市政府办公室发文", "市政府办公室收文", "全市通用发文"}
    first = next(t for t in response.json()["results"] if t["name"] == "市政府办公室发文")
    assert [s["kind"] for s in first["steps"]][:3] == ["review", "countersign", "sign_off"]
    assert first["steps"][0]["post"]["name"] == "办公室主任"
    assert client_for(demo.user("b_staff")).get(URL).json()["results"][0]["unit"]["id"] in (
        demo.unit("XC-FGW").pk,
        city.pk,
    )
    # the count does not grow with templates
    for index in range(5):
        WorkflowTemplate.objects.create(unit=city, name=f"模板{index}", direction="incoming")
    with django_assert_max_num_queries(12):
        assert len(client.get(URL).json()["results"]) == 8
    office = client.get(URL, {"direction": "incoming", "unit": demo.unit("XC-OFF").pk})
    assert {t["direction"] for t in office.json()["results"]} == {"incoming"}
    assert client.get(URL, {"unit": demo.unit("XC-FGW").pk}).status_code == 404


def test_the_units_usual_outgoing_template_is_marked(demo, outgoing, django_assert_max_num_queries):
    """The clerk's picker starts on the template the unit's documents use most; a unit
    with no history has none marked, and the mark follows use, not creation order."""
    office = demo.unit("XC-OFF")
    WorkflowTemplate.objects.create(unit=office, name="简易发文", direction="outgoing")
    client = client_for(demo.user("clerk"))

    def usual() -> list[str]:
        with django_assert_max_num_queries(14):
            answer = client.get(URL, {"direction": "outgoing"})
        assert answer.status_code == 200
        return [t["name"] for t in answer.json()["results"] if t["usual"]]

    assert usual() == []
    outgoing()
    outgoing()
    assert usual() == ["市政府办公室发文"]
    # without ?direction= nothing is marked (the usual one is per direction)
    assert not any(t["usual"] for t in client.get(URL).json()["results"])


def test_unit_admin_creates_and_others_cannot(demo):
    body = {
        "unit": demo.unit("XC-OFF").pk,
        "name": "简易发文",
        "direction": "outgoing",
        "doc_types": ["letter"],
        "steps": _steps(demo),
    }
    response = client_for(demo.user("office_admin")).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert [s["order"] for s in data["steps"]] == [1, 2, 3]
    assert data["steps"][0]["name"] == "核稿"
    assert AuditEvent.objects.filter(action="workflow_template.created").count() == 1
    assert client_for(demo.user("b_admin")).post(URL, body, format="json").status_code == 403
    assert client_for(demo.user("clerk")).post(URL, body, format="json").status_code == 403
    assert (
        AuditEvent.objects.filter(action="workflow_template.create", result="denied").count() == 2
    )
    bad = {**body, "steps": [{"kind": "sign_for", "assignee_kind": "auto"}]}
    response = client_for(demo.user("office_admin")).post(URL, bad, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "template_invalid"
    unknown = {**body, "steps": [{"kind": "review", "assignee_kind": "auto", "x": 1}]}
    response = client_for(demo.user("office_admin")).post(URL, unknown, format="json")
    assert response.status_code == 400
    # a post of another unit cannot be used
    other_post = Post.objects.get(unit=demo.unit("XC-FGW"), name="主任")
    foreign = {
        **body,
        "steps": [{"kind": "review", "assignee_kind": "post", "post": other_post.pk}],
    }
    response = client_for(demo.user("office_admin")).post(URL, foreign, format="json")
    assert response.status_code == 422


def test_update_copies_a_template_in_use(demo, outgoing):
    template = demo.template("市政府办公室发文")
    admin = client_for(demo.user("office_admin"))
    document, instance = outgoing()
    response = admin.patch(
        f"{URL}{template.pk}/", {"name": "市政府办公室发文（修订）"}, format="json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["id"] != template.pk and data["replaces"] == template.pk and data["version"] == 2
    assert len(data["steps"]) == 6
    template.refresh_from_db()
    assert template.is_active is False and template.steps.count() == 6
    instance.refresh_from_db()
    assert instance.template_id == template.pk
    # not in use: changed in place
    fresh = data["id"]
    response = admin.patch(f"{URL}{fresh}/", {"steps": _steps(demo)}, format="json")
    assert response.json()["id"] == fresh and len(response.json()["steps"]) == 3
    assert (
        client_for(demo.user("b_admin"))
        .patch(f"{URL}{fresh}/", {"name": "x"}, format="json")
        .status_code
        == 404
    )
    assert (
        client_for(demo.user("clerk"))
        .patch(f"{URL}{fresh}/", {"name": "x"}, format="json")
        .status_code
        == 403
    )
    response = admin.post(f"{URL}{fresh}/deactivate/", {}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert AuditEvent.objects.filter(action="workflow_template.deactivated").count() == 1
    assert fresh not in [t["id"] for t in admin.get(URL).json()["results"]]
    listed = admin.get(URL, {"include_inactive": "true"}).json()["results"]
    assert fresh in [t["id"] for t in listed]
    # the running document goes on with the old snapshot
    actions.approve(demo.open_task("director", document).pk, demo.user("director"))
    assert demo.open_task("leader1", document).step_kind == "countersign"


def test_detail_visibility(demo):
    template = demo.template("市发展和改革委员会发文")
    assert client_for(demo.user("b_staff")).get(f"{URL}{template.pk}/").status_code == 200
    assert client_for(demo.user("clerk")).get(f"{URL}{template.pk}/").status_code == 404
    assert client_for(demo.user("admin")).get(f"{URL}{template.pk}/").status_code == 200
    assert client_for(None).get(URL).status_code == 401


@pytest.mark.django_db
def test_seeding_is_idempotent(demo):
    before = WorkflowTemplate.objects.count()
    assert before == 4
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert WorkflowTemplate.objects.count() == before
    assert "nothing to change" in out.getvalue()
