"""The accountability API end to end: the three sources, findings and outcome, who sees
what, the unit's yearly figures, retries and bad input. Docs: docs/accountability.md."""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.accountability.models import AccountabilityCase
from api.accounts.models import Role
from api.audit.models import AuditEvent
from api.notify.models import Notification
from api.supervision import actions as supervision
from api.supervision.models import Light, SupervisedItem
from tests.api.stats.conftest import PERIOD, add_task, make_instance, stats_fixture
from tests.personas import client_for, make_user

__all__ = ["stats_fixture"]  # the fixture, imported for pytest

pytestmark = pytest.mark.django_db
CASES = "/api/v1/accountability/cases/"


def api(user):
    client = client_for(user)
    client.default_format = "json"
    return client


def red_item(personas, org, unit=None) -> SupervisedItem:
    item = supervision.create_item(
        personas["sam"],
        title="推进政务服务“一网通办”",
        source="manual",
        owner_unit_id=(unit or org.office).pk,
        deadline=timezone.now() + timedelta(days=30),
    )
    SupervisedItem.objects.filter(pk=item.pk).update(light=Light.RED)
    return item


def overdue_document(org, personas):
    instance = make_instance(org, personas["bob"])
    now = timezone.now()
    document = instance.document
    document.due_at = now - timedelta(days=2)
    document.limit_started_at = now - timedelta(days=4)
    document.status = "in_progress"
    document.save(update_fields=["due_at", "limit_started_at", "status"])
    late = add_task(
        instance, "review", "open", "", now - timedelta(days=3), None,
        now - timedelta(days=2), None, personas["leo"],
    )  # fmt: skip
    add_task(
        instance, "review", "done", "approve", now - timedelta(days=4), now - timedelta(days=3),
        now - timedelta(days=2), 3600, personas["bob"],
    )  # on time: not linked  # fmt: skip
    return document, late


def pdf_text(content: bytes, tmp_path) -> str:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def open_case(sam, **body):
    response = sam.post(CASES, {"reason": "红灯逾期，启动问责。", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_red_item_case_from_opening_to_outcome(org, personas):
    sam, leo = api(personas["sam"]), api(personas["leo"])
    item = red_item(personas, org)
    case = open_case(sam, source_kind="supervision_item", supervised_item_id=item.pk)
    assert case["unit"] == {"id": org.office.pk, "name": org.office.name}
    assert (case["status"], case["outcome_kind"], case["supervised_item_id"]) == (
        "opened",
        None,
        item.pk,
    )
    snapshot = case["linked"]["supervised_item"]
    assert (snapshot["id"], snapshot["light"], snapshot["title"]) == (item.pk, "red", item.title)
    opened_note = Notification.objects.get(dedup_key=f"accountability_opened:{case['id']}")
    assert (opened_note.recipient.username, opened_note.kind) == ("leo", "supervision")
    assert opened_note.sms_due_at is None  # never by SMS

    pk = case["id"]
    response = sam.post(
        f"{CASES}{pk}/decide/", {"outcome_kind": "reminder_talk", "outcome_text": "x"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "accountability_findings_required"
    found = sam.post(f"{CASES}{pk}/findings/", {"findings": "未按期报送方案，未说明理由。"})
    assert found.status_code == 200, found.content
    assert found.json()["status"] == "findings_recorded"
    decided = sam.post(
        f"{CASES}{pk}/decide/",
        {"outcome_kind": "admonition_talk", "outcome_text": "对办公室主任诫勉谈话。"},
    )
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["outcome_kind"], body["outcome_label"]) == (
        "decided",
        "admonition_talk",
        "诫勉谈话",
    )
    assert body["decided_by"]["id"] == personas["sam"].pk
    decided_note = Notification.objects.get(dedup_key=f"accountability_decided:{pk}")
    assert (decided_note.recipient.username, decided_note.body) == ("leo", "对办公室主任诫勉谈话。")
    # The unit's leader reads the case about their unit.
    assert leo.get(f"{CASES}{pk}/").json()["outcome_kind"] == "admonition_talk"

    for path, data in [
        ("findings/", {"findings": "y"}),
        ("decide/", {"outcome_kind": "no_action", "outcome_text": "y"}),
    ]:
        again = sam.post(f"{CASES}{pk}/{path}", data)
        assert again.status_code == 409, path
        assert again.json()["error"]["code"] == "accountability_decided"
    events = AuditEvent.objects.filter(
        object_type="accountability.accountabilitycase", object_id=str(pk), result="success"
    ).values_list("action", flat=True)
    assert {
        "accountability.opened",
        "accountability.findings_recorded",
        "accountability.decided",
    } <= set(events)
    assert AuditEvent.objects.filter(action="accountability.viewed", actor_username="leo").exists()


def test_only_a_red_open_item_opens_a_case(org, personas):
    sam = api(personas["sam"])
    item = red_item(personas, org)
    SupervisedItem.objects.filter(pk=item.pk).update(light=Light.YELLOW)
    response = sam.post(
        CASES, {"source_kind": "supervision_item", "supervised_item_id": item.pk, "reason": "x"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "accountability_source_not_eligible"
    assert not AccountabilityCase.objects.exists()


def test_an_overdue_document_case_links_its_late_tasks(org, personas):
    document, late = overdue_document(org, personas)
    case = open_case(api(personas["sam"]), source_kind="overdue_document", document_id=document.pk)
    assert (case["unit"]["id"], case["document_id"]) == (org.office.pk, document.pk)
    linked = case["linked"]
    assert linked["document"]["id"] == document.pk
    assert linked["document"]["late_working_hours"] is not None
    assert linked["late_tasks"]["count"] == 1
    assert [t["task_id"] for t in linked["late_tasks"]["tasks"]] == [late.pk]
    assert linked["late_tasks"]["tasks"][0]["person"]["id"] == personas["leo"].pk


def test_a_document_within_its_limit_opens_no_case(org, personas):
    document = make_instance(org, personas["bob"]).document
    document.due_at = timezone.now() + timedelta(days=1)
    document.save(update_fields=["due_at"])
    response = api(personas["sam"]).post(
        CASES, {"source_kind": "overdue_document", "document_id": document.pk, "reason": "x"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "accountability_source_not_eligible"


def test_a_statistic_case_links_the_tasks_behind_the_figure(org, personas, stats_fixture):
    statistic = {"unit_id": org.office.pk, **PERIOD, "component": "overdue"}
    case = open_case(api(personas["sam"]), source_kind="statistic", statistic=statistic)
    assert case["unit"]["id"] == org.office.pk and case["source_kind"] == "statistic"
    linked = case["linked"]
    # docs/supervision.md#worked-example: T4 and T6 handled late, T7 still open past due.
    assert linked["statistic"]["count"] == 3
    assert linked["statistic"]["figures"]["overdue"] == 3
    assert linked["statistic"]["tasks_link"].startswith(f"/api/v1/stats/units/{org.office.pk}/")
    expected = sorted(stats_fixture.tasks[name].pk for name in ("T4", "T6", "T7"))
    assert [t["task_id"] for t in linked["tasks"]["tasks"]] == expected


def test_a_zero_figure_opens_no_case(org, personas, stats_fixture):
    statistic = {"unit_id": org.bureau.pk, **PERIOD, "component": "returned"}
    response = api(personas["sam"]).post(
        CASES, {"source_kind": "statistic", "statistic": statistic, "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "accountability_source_not_eligible"


def test_the_case_and_its_outcome_are_in_the_units_yearly_figures(org, personas, tmp_path):
    sam = api(personas["sam"])
    decided = open_case(
        sam, source_kind="supervision_item", supervised_item_id=red_item(personas, org).pk
    )
    sam.post(f"{CASES}{decided['id']}/findings/", {"findings": "属实"})
    sam.post(
        f"{CASES}{decided['id']}/decide/",
        {"outcome_kind": "circulated_criticism", "outcome_text": "全市通报批评。"},
    )
    document, _late = overdue_document(org, personas)
    open_case(sam, source_kind="overdue_document", document_id=document.pk)
    open_case(
        sam,
        source_kind="supervision_item",
        supervised_item_id=red_item(personas, org, org.bureau).pk,
    )

    office = sam.get(f"/api/v1/stats/units/{org.office.pk}/").json()["accountability"]
    assert {k: office[k] for k in ("opened", "pending", "decided", "circulated_criticism")} == {
        "opened": 2,
        "pending": 1,
        "decided": 1,
        "circulated_criticism": 1,
    }
    assert office["reminder_talk"] == 0
    # The link lists exactly the cases counted.
    listed = sam.get(office["cases"]).json()["results"]
    assert len(listed) == 2 and {c["unit"]["id"] for c in listed} == {org.office.pk}
    # The unit's leader reads their unit's figures, cases included.
    assert (
        api(personas["leo"])
        .get(f"/api/v1/stats/units/{org.office.pk}/")
        .json()["accountability"]["opened"]
        == 2
    )
    rows = {r["unit"]["id"]: r for r in sam.get("/api/v1/stats/units/").json()["results"]}
    assert rows[org.bureau.pk]["accountability"]["opened"] == 1
    assert rows[org.district.pk]["accountability"]["opened"] == 0
    # A period before the cases: none.
    last_year = timezone.localdate().year - 1
    old = sam.get(
        f"/api/v1/stats/units/{org.office.pk}/?from={last_year}-01-01&to={last_year}-12-31"
    )
    assert old.json()["accountability"]["opened"] == 0
    report = sam.get("/api/v1/stats/report.pdf")
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    text = pdf_text(report.content, tmp_path)
    assert "问责情况" in text and "问责立案数" in text
    office_line = next(
        line for line in text[text.index("问责情况") :].splitlines() if org.office.name in line
    )
    assert office_line.split()[1:4] == ["2", "1", "1"]  # opened, pending, decided
    export = sam.get("/api/v1/stats/units/?format=csv")
    assert export.status_code == 200
    header, *_rows = export.content.decode("utf-8-sig").splitlines()
    assert "问责立案数" in header and "问责结果：通报批评" in header


def test_who_sees_a_case(org, personas):
    item = red_item(personas, org)
    pk = open_case(
        api(personas["sam"]), source_kind="supervision_item", supervised_item_id=item.pk
    )["id"]
    lena = make_user("lena", org.bureau, Role.LEADER)  # another unit's leader
    for name in ("leo", "alice"):  # the office's leader and unit admin
        viewer = api(personas[name])
        assert viewer.get(f"{CASES}{pk}/").status_code == 200, name
        assert [c["id"] for c in viewer.get(CASES).json()["results"]] == [pk], name
    for user in (personas["charlie"], personas["bob"], personas["dana"], personas["ivy"], lena):
        viewer = api(user)
        assert viewer.get(f"{CASES}{pk}/").status_code == 404, user.username
        assert viewer.get(CASES).json()["results"] == [], user.username
        response = viewer.post(f"{CASES}{pk}/findings/", {"findings": "x"})
        assert response.status_code == 404, user.username
    assert AuditEvent.objects.filter(
        action="accountability.view", actor_username="lena", result="denied"
    ).exists()
    # The unit sees its case but does not run it.
    response = api(personas["leo"]).post(f"{CASES}{pk}/findings/", {"findings": "x"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action="accountability.findings", actor_username="leo", result="denied"
    ).exists()


def test_only_supervisors_in_scope_open_cases(org, personas):
    item = red_item(personas, org)
    body = {"source_kind": "supervision_item", "supervised_item_id": item.pk, "reason": "x"}
    assert api(personas["leo"]).post(CASES, body).status_code == 403
    assert AuditEvent.objects.filter(
        action="accountability.open", actor_username="leo", result="denied"
    ).exists()
    zoe = api(make_user("zoe", org.district, Role.SUPERVISOR))
    response = zoe.post(CASES, body)
    assert response.status_code == 400
    assert "supervised_item_id" in response.json()["error"]["fields"]
    denied = AuditEvent.objects.get(
        action="accountability.open", actor_username="zoe", result="denied"
    )
    assert denied.detail["reason"] == "item_outside_scope"
    # A case about a city unit is invisible to the district's supervisor.
    pk = open_case(api(personas["sam"]), **body)["id"]
    assert zoe.get(f"{CASES}{pk}/").status_code == 404
    assert (
        zoe.post(
            f"{CASES}{pk}/decide/", {"outcome_kind": "no_action", "outcome_text": "x"}
        ).status_code
        == 404
    )
    township_item = red_item(personas, org, org.township)
    township = {**body, "supervised_item_id": township_item.pk}
    assert zoe.post(CASES, township).status_code == 201


def test_opening_is_safe_to_retry(org, personas):
    item = red_item(personas, org)
    body = {"source_kind": "supervision_item", "supervised_item_id": item.pk, "reason": "x"}
    # A fresh key: with REDIS_URL the records outlive the test database.
    key = {"HTTP_IDEMPOTENCY_KEY": f"open-{uuid.uuid4()}"}
    sam = api(personas["sam"])
    first = sam.post(CASES, body, format="json", **key)
    second = sam.post(CASES, body, format="json", **key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert AccountabilityCase.objects.count() == 1
    assert Notification.objects.filter(dedup_key__startswith="accountability_opened").count() == 1
    # Without a key, the same source cannot get a second undecided case.
    third = sam.post(CASES, body, format="json")
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "accountability_case_exists"
    assert third.json()["error"]["case_id"] == first.json()["id"]
    # Findings sent twice change nothing the second time.
    pk = first.json()["id"]
    for _ in range(2):
        assert sam.post(f"{CASES}{pk}/findings/", {"findings": "属实"}).status_code == 200
    assert AuditEvent.objects.filter(action="accountability.findings_recorded").count() == 1
    decide_key = {"HTTP_IDEMPOTENCY_KEY": f"decide-{uuid.uuid4()}"}
    outcome = {"outcome_kind": "reminder_talk", "outcome_text": "提醒谈话。"}
    one = sam.post(f"{CASES}{pk}/decide/", outcome, format="json", **decide_key)
    two = sam.post(f"{CASES}{pk}/decide/", outcome, format="json", **decide_key)
    assert one.status_code == two.status_code == 200 and one.json() == two.json()
    assert AuditEvent.objects.filter(action="accountability.decided").count() == 1
    # Once decided, the source may be taken up again.
    assert sam.post(CASES, body, format="json").status_code == 201


OFFICE = "{office}"  # replaced by the office's id in the test


def stat(**change):
    return {
        "source_kind": "statistic",
        "statistic": {
            "unit_id": OFFICE,
            "from": "2025-01-01",
            "to": "2025-02-01",
            "component": "overdue",
            **change,
        },
    }


ITEM = {"source_kind": "supervision_item", "supervised_item_id": 1}


def test_a_concurrent_open_of_the_same_source_is_409_not_500(org, personas, monkeypatch):
    """Two opens that both pass the look-up: the partial unique index refuses the
    second, which answers like the look-up would have."""
    from api.accountability import actions

    item = red_item(personas, org)
    body = {"source_kind": "supervision_item", "supervised_item_id": item.pk, "reason": "x"}
    sam = api(personas["sam"])
    first = open_case(sam, **{k: v for k, v in body.items() if k != "reason"})
    monkeypatch.setattr(actions, "undecided_case_exists", lambda key: False)
    response = sam.post(CASES, body, format="json")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert (error["code"], error["case_id"]) == ("accountability_case_exists", first["id"])
    assert AccountabilityCase.objects.count() == 1
    assert Notification.objects.filter(dedup_key__startswith="accountability_opened").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source_kind": "supervision_item"}, "supervised_item_id"),
        ({"source_kind": "overdue_document"}, "document_id"),
        ({"source_kind": "statistic"}, "statistic"),
        ({**ITEM, "supervised_item_id": 999999}, "supervised_item_id"),
        ({"source_kind": "overdue_document", "document_id": 999999}, "document_id"),
        ({**ITEM, "document_id": 1}, "document_id"),
        ({"source_kind": "nope"}, "source_kind"),
        ({**ITEM, "supervised_item_id": "abc"}, "supervised_item_id"),
        ({**ITEM, "supervised_item_id": None}, "supervised_item_id"),
        ({"source_kind": "statistic", "statistic": None}, "statistic"),
        ({"source_kind": "statistic", "statistic": "x"}, "statistic"),
        ({"source_kind": "statistic", "statistic": {"unit_id": 1}}, "statistic"),
        (stat(**{"from": "2025-10-17", "to": "2025-09-26"}), "statistic.to"),
        (stat(**{"from": "2020-01-01", "to": "2025-09-26"}), "statistic.to"),
        (stat(to="2999-01-01"), "statistic.to"),
        (stat(unit_id=999999), "statistic.unit_id"),
        (stat(component="score"), "statistic"),
        ({**ITEM, "reason": ""}, "reason"),
        ({**ITEM, "unit_id": 1}, "unit_id"),
    ],
)
def test_bad_input_on_open_is_a_clear_400(org, personas, body, field):
    statistic = body.get("statistic")
    if isinstance(statistic, dict) and statistic.get("unit_id") == OFFICE:
        body = {**body, "statistic": {**statistic, "unit_id": org.office.pk}}
    response = api(personas["sam"]).post(CASES, {"reason": "x", **body}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] in {"validation_error", "unknown_field"} and error["message"]
    assert any(name == field or name.startswith(f"{field}.") for name in error["fields"]), error
    assert not AccountabilityCase.objects.exists()


def test_bad_input_on_findings_decide_and_list(org, personas):
    sam = api(personas["sam"])
    pk = open_case(
        sam, source_kind="supervision_item", supervised_item_id=red_item(personas, org).pk
    )["id"]
    for path, data in [
        ("findings/", {}),
        ("findings/", {"findings": ""}),
        ("findings/", {"findings": "x", "status": "decided"}),
        ("decide/", {"outcome_kind": "fine", "outcome_text": "x"}),
        ("decide/", {"outcome_kind": "no_action"}),
        ("decide/", [1, 2]),
    ]:
        response = sam.post(f"{CASES}{pk}/{path}", data, format="json")
        assert response.status_code == 400, (path, data, response.content)
        assert response.json()["error"]["message"]
    for query in ("status=lost", "unit=abc", "source_kind=x", "from=2025-13-01", "from=0001-01-01"):
        assert sam.get(f"{CASES}?{query}").status_code == 400, query
    assert sam.get(f"{CASES}999999/").status_code == 404
    assert sam.post(f"{CASES}999999/findings/", {"findings": "x"}).status_code == 404


def test_messages_in_both_languages(org, personas):
    item = red_item(personas, org)
    SupervisedItem.objects.filter(pk=item.pk).update(light=Light.GREEN)
    body = {"source_kind": "supervision_item", "supervised_item_id": item.pk, "reason": "x"}
    zh = api(personas["sam"]).post(CASES, body).json()["error"]["message"]
    en = api(personas["sam"]).post(CASES, body, HTTP_ACCEPT_LANGUAGE="en").json()["error"]
    assert "红灯" in zh
    assert en["code"] == "accountability_source_not_eligible" and en["message"].isascii()


def test_list_filters_and_query_count(org, personas, django_assert_max_num_queries):
    sam = api(personas["sam"])
    first = open_case(
        sam, source_kind="supervision_item", supervised_item_id=red_item(personas, org).pk
    )["id"]
    with CaptureQueriesContext(connection) as ctx:
        assert sam.get(CASES).status_code == 200
    budget = len(ctx.captured_queries)  # read now: later requests reset the query log
    ids = [first]
    for index in range(5):
        unit = org.bureau if index % 2 else org.office
        case = open_case(
            sam, source_kind="supervision_item", supervised_item_id=red_item(personas, org, unit).pk
        )
        ids.append(case["id"])
        sam.post(f"{CASES}{case['id']}/findings/", {"findings": f"f{index}"})
    with django_assert_max_num_queries(budget):
        response = sam.get(CASES)
    assert [c["id"] for c in response.json()["results"]] == ids[::-1]
    office = [c["id"] for c in sam.get(f"{CASES}?unit={org.office.pk}").json()["results"]]
    assert office == [ids[5], ids[3], ids[1], ids[0]]
    assert [c["id"] for c in sam.get(f"{CASES}?status=opened").json()["results"]] == [first]
    assert sam.get(f"{CASES}?source_kind=statistic").json()["results"] == []
    today = timezone.localdate().isoformat()
    assert len(sam.get(f"{CASES}?from={today}&to={today}").json()["results"]) == 6
    assert sam.get(f"{CASES}?to=2000-01-01").json()["results"] == []
    leo = api(personas["leo"])
    with django_assert_max_num_queries(budget + 2):  # the leader's role look-up
        assert len(leo.get(CASES).json()["results"]) == 4


def test_the_schema_describes_the_cases_in_the_unit_figures(client):
    schema = client.get("/api/schema/?format=json").json()
    unit_stats = schema["components"]["schemas"]["UnitStats"]
    assert "accountability" in unit_stats["properties"]
    assert "accountability" in unit_stats["required"]
    assert "/api/v1/accountability/cases/{id}/decide/" in schema["paths"]
