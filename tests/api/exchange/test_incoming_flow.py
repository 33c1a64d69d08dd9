"""Sign-for starts the recipient unit's incoming flow (docs/exchange.md#sign-for), in
the demo city: 市发改委 has the incoming template 签收 → 承办 → 答复; 市财政局 has none.
Also the demo's exchange groups and recipients (ten units, each with a clerk)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from api.accounts.models import Role, RoleAssignment, Unit, User
from api.exchange.models import ExchangeGroup, Receipt
from api.workflow.models import Task, TaskState, WorkflowInstance
from tests.api.exchange.conftest import make_document
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db):
    call_command("seed_demo", stdout=io.StringIO())
    return {u.username: u for u in User.objects.select_related("unit")}


def _dispatch_to_groups(city) -> list[Receipt]:
    clerk = city["clerk"]
    document = make_document(clerk.unit, clerk, doc_number="新府办发〔2026〕7号")
    groups = list(ExchangeGroup.objects.order_by("id").values_list("pk", flat=True))
    response = client_for(clerk).post(
        f"/api/v1/documents/{document.pk}/dispatch/", {"groups": groups}, format="json"
    )
    assert response.status_code == 202, response.content
    return list(Receipt.objects.select_related("unit"))


def test_demo_groups_reach_ten_units_each_with_a_clerk(city):
    receipts = _dispatch_to_groups(city)
    assert len(receipts) == 10
    units = [r.unit for r in receipts]
    for unit in units:
        assert RoleAssignment.objects.filter(unit=unit, role=Role.CLERK).exists(), unit.code
    assert {u.code for u in units} >= {"XC-FGW", "XC-CZ", "XC-YC-OFF", "XC-GX-OFF"}
    # a second seeding changes nothing (groups matched by name, edits survive)
    group = ExchangeGroup.objects.get(name="市直部门")
    group.units.remove(Unit.objects.get(code="XC-SJ"))
    call_command("seed_demo", stdout=io.StringIO())
    assert ExchangeGroup.objects.count() == 2 and group.units.count() == 7


def test_sign_for_starts_the_incoming_flow_and_completes_its_sign_for_step(city):
    receipts = {r.unit.code: r for r in _dispatch_to_groups(city)}
    b_clerk = client_for(city["b_clerk"])
    receipt = receipts["XC-FGW"]
    response = b_clerk.post(
        f"/api/v1/exchange/{receipt.pk}/sign/",
        {"participants": {"handler": city["b_staff"].pk}},
        format="json",
    )
    assert response.status_code == 200, response.content
    flow = response.json()["flow"]
    assert flow["started"] is True and flow["code"] is None
    instance = WorkflowInstance.objects.get(pk=flow["instance_id"])
    assert instance.template.name == "市发展和改革委员会收文"
    assert instance.document_id == response.json()["incoming_document_id"]
    tasks = list(Task.objects.filter(instance=instance).order_by("id"))
    # 签收 happened at the exchange: the flow's sign_for step is done by the signer,
    # and 承办 is open for the chosen handler
    assert (tasks[0].step_kind, tasks[0].state, tasks[0].assignee_id) == (
        "sign_for",
        TaskState.DONE,
        city["b_clerk"].pk,
    )
    assert (tasks[1].step_kind, tasks[1].state, tasks[1].assignee_id) == (
        "handle",
        TaskState.OPEN,
        city["b_staff"].pk,
    )
    assert Receipt.objects.get(pk=receipt.pk).incoming_instance_id == instance.pk


def test_without_the_choices_or_a_template_the_document_stays_registered(city):
    receipts = {r.unit.code: r for r in _dispatch_to_groups(city)}
    # 市发改委's template needs a handler: registered, flow not started, and why
    fgw = client_for(city["b_clerk"]).post(
        f"/api/v1/exchange/{receipts['XC-FGW'].pk}/sign/", {}, format="json"
    )
    flow = fgw.json()["flow"]
    assert fgw.status_code == 200 and flow["started"] is False
    assert flow["code"] == "participants_missing" and "handler" in flow["fields"]
    # ... and the clerk submits it later through the normal submit endpoint
    later = client_for(city["b_clerk"]).post(
        f"/api/v1/documents/{fgw.json()['incoming_document_id']}/submit/",
        {"template_id": flow["template_id"], "participants": {"handler": city["b_staff"].pk}},
        format="json",
    )
    assert later.status_code == 201, later.content
    # 市财政局 has no incoming template at all
    cz = client_for(city["cz_clerk"]).post(
        f"/api/v1/exchange/{receipts['XC-CZ'].pk}/sign/", {}, format="json"
    )
    assert cz.status_code == 200
    assert cz.json()["flow"]["code"] == "no_incoming_template"
    assert cz.json()["flow"]["message"]
