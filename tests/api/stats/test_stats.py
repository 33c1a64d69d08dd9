"""Statistics against the hand-computed fixture (tests/api/stats/conftest.py).

Docs: docs/supervision.md#statistics. Every expected number is worked out by hand in
the comments from the fixture's table, not by calling the code under test. The same
assertions run on SQLite (Python percentiles) and on PostgreSQL (percentile_cont).
"""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from api.audit.models import AuditEvent
from api.stats import compute
from api.workdays import add_working_days, working_seconds_between
from tests.api.stats.conftest import PERIOD, ROWS
from tests.conftest import requires_postgres
from tests.personas import client_for, make_unit, make_user

pytestmark = pytest.mark.django_db
Q = "from=2025-09-26&to=2025-10-17"


def get(user, path):
    response = client_for(user).get(path)
    assert response.status_code == 200, response.content[:400]
    return response


def test_fixture_times_match_the_working_day_calendar():
    """The fixture's working seconds and due times are what api.workdays says, so the
    statistics are read from realistic rows (Task.working_seconds holds exactly this)."""
    for name, (_p, _a, _s, _st, _ac, received, acted, due, seconds) in ROWS.items():
        assert add_working_days(received, 1) == due, name
        if acted is not None:
            assert working_seconds_between(received, acted) == seconds, name


def test_percentile_cont_by_hand():
    # Office handling hours sorted: 1 2 6 18 18 28 50 (n = 7).
    # median: position 0.5 × 6 = 3 → 18; p90: position 0.9 × 6 = 5.4 → 28 + 0.4 × 22 = 36.8
    values = [50, 1, 18, 6, 28, 2, 18]
    assert compute.percentile_cont(values, 0.5) == 18
    assert compute.percentile_cont(values, 0.9) == pytest.approx(36.8)
    assert compute.percentile_cont([], 0.5) is None
    assert compute.percentile_cont([7], 0.9) == 7


def test_office_figures_and_score(stats_fixture, org, personas):
    row = get(personas["sam"], f"/api/v1/stats/units/{org.office.pk}/?{Q}").json()
    # Handled in the period: T1 T2 T3 T4 T5 T6 T11 (T8 transfer, T9 auto, T10 after).
    assert row["items"] == 7
    assert row["median_hours"] == 18.0
    assert row["p90_hours"] == 36.8
    # Overdue: T4 (acted Sat 11:00 > due Fri 10 Oct 09:00), T6 (14:00 > 10:00), and T7
    # still open past its due time → 3 of 7 + 1 = 8 → 0.375.
    assert (row["overdue"], row["open_overdue"], row["overdue_rate"]) == (3, 1, 0.375)
    # Returned: T3 → 1/7 = 0.142857…
    assert (row["returned"], row["return_rate"]) == (1, 0.1429)
    # Slow (> 12 working hours): T2 18, T3 18, T4 50, T6 28 → 4/7 = 0.571428…
    assert (row["slow"], row["slow_rate"]) == (4, 0.5714)
    # Score = 100 − 60 × 0.375 − 20 × 1/7 − 20 × 4/7 = 100 − 22.5 − 2.857 − 11.429 = 63.214
    assert row["score"] == 63.2
    parts = {c["key"]: c for c in row["components"]}
    assert (parts["overdue"]["count"], parts["overdue"]["base"]) == (3, 8)
    assert parts["overdue"]["deduction"] == 22.5
    assert (parts["returned"]["count"], parts["returned"]["base"]) == (1, 7)
    assert parts["returned"]["deduction"] == 2.86
    assert (parts["slow"]["count"], parts["slow"]["base"]) == (4, 7)
    assert parts["slow"]["deduction"] == 11.43
    assert parts["overdue"]["weight"] == 60
    assert parts["overdue"]["tasks"] == (
        f"/api/v1/stats/units/{org.office.pk}/tasks/?component=overdue&{Q}"
    )


def test_bureau_figures(stats_fixture, org, personas):
    row = get(personas["sam"], f"/api/v1/stats/units/{org.bureau.pk}/?{Q}").json()
    # Only T12 (4 h, on time); T11 was charlie acting for leo, so it counts for the office.
    assert (row["items"], row["median_hours"], row["p90_hours"]) == (1, 4.0, 4.0)
    assert (row["overdue_rate"], row["return_rate"], row["slow_rate"]) == (0.0, 0.0, 0.0)
    assert row["score"] == 100.0


def test_unit_without_records_has_no_score(stats_fixture, org, personas):
    row = get(personas["sam"], f"/api/v1/stats/units/{org.district.pk}/?{Q}").json()
    assert (row["items"], row["score"], row["median_hours"], row["overdue_rate"]) == (
        0,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # 100 − 50 × 0.375 − 25 × 1/7 − 25 × 4/7 = 100 − 18.75 − 3.571 − 14.286 = 63.393
        ((50, 25, 25), 63.4),
        # 100 − 100 × 0.375 = 62.5
        ((100, 0, 0), 62.5),
    ],
)
def test_weights_come_from_settings(stats_fixture, org, personas, settings, weights, expected):
    (
        settings.GOVDESK_STATS_WEIGHT_OVERDUE,
        settings.GOVDESK_STATS_WEIGHT_RETURN,
        settings.GOVDESK_STATS_WEIGHT_SLOW,
    ) = weights
    row = get(personas["sam"], f"/api/v1/stats/units/{org.office.pk}/?{Q}").json()
    assert row["score"] == expected
    assert [c["weight"] for c in row["components"]] == list(weights)


def test_people_figures(stats_fixture, org, personas):
    body = get(personas["sam"], f"/api/v1/stats/people/?unit={org.office.pk}&{Q}").json()
    rows = {r["person"]["display_name"]: r for r in body["results"]}
    assert set(rows) == {"alice", "bob", "leo"}
    bob = rows["bob"]
    # bob: T1 6, T2 18, T5 2, T6 28 → sorted 2 6 18 28; median (6 + 18) / 2 = 12;
    # p90 position 2.7 → 18 + 0.7 × 10 = 25. Overdue T6 + open T7 = 2 of 4 + 1 → 0.4.
    assert (bob["items"], bob["median_hours"], bob["p90_hours"]) == (4, 12.0, 25.0)
    assert (bob["overdue"], bob["open_overdue"], bob["overdue_rate"]) == (2, 1, 0.4)
    assert (bob["returned"], bob["slow"], bob["slow_rate"]) == (0, 2, 0.5)
    leo = rows["leo"]
    # leo: T3 18, T4 50, T11 1 (charlie acted for him) → 1 18 50; median 18;
    # p90 position 1.8 → 18 + 0.8 × 32 = 43.6. Overdue T4 → 1/3; returned T3 → 1/3.
    assert (leo["items"], leo["median_hours"], leo["p90_hours"]) == (3, 18.0, 43.6)
    assert (leo["overdue_rate"], leo["return_rate"], leo["slow_rate"]) == (0.3333, 0.3333, 0.6667)
    assert (rows["alice"]["items"], rows["alice"]["median_hours"]) == (0, None)


def test_step_figures(stats_fixture, org, personas):
    body = get(personas["sam"], f"/api/v1/stats/steps/?unit={org.office.pk}&{Q}").json()
    rows = {r["step_kind"]: r for r in body["results"]}
    assert list(rows) == ["review", "countersign", "sign_off", "circulate"]
    # review: T1 6, T5 2 → median 4, p90 2 + 0.9 × 4 = 5.6; T7 open overdue → 1/3.
    review = rows["review"]
    assert (review["items"], review["median_hours"], review["p90_hours"]) == (2, 4.0, 5.6)
    assert (review["open_overdue"], review["overdue_rate"]) == (1, 0.3333)
    # countersign: T2 18, T3 18, T11 1 → median 18, p90 18 + 0.8 × 0 = 18; T3 returned.
    countersign = rows["countersign"]
    assert (countersign["items"], countersign["median_hours"], countersign["p90_hours"]) == (
        3,
        18.0,
        18.0,
    )
    assert countersign["returned"] == 1
    assert (rows["sign_off"]["median_hours"], rows["sign_off"]["overdue_rate"]) == (50.0, 1.0)
    assert rows["circulate"]["p90_hours"] == 28.0
    assert rows["review"]["step_label"] == "核稿"


@pytest.mark.parametrize(
    ("component", "names"),
    [
        ("handled", {"T1", "T2", "T3", "T4", "T5", "T6", "T11"}),
        ("overdue", {"T4", "T6", "T7"}),
        ("open_overdue", {"T7"}),
        ("returned", {"T3"}),
        ("slow", {"T2", "T3", "T4", "T6"}),
    ],
)
def test_every_point_traces_back_to_tasks(stats_fixture, org, personas, component, names):
    path = f"/api/v1/stats/units/{org.office.pk}/tasks/?component={component}&{Q}"
    body = get(personas["sam"], path).json()
    expected = {stats_fixture.tasks[n].pk for n in names}
    assert {t["id"] for t in body["results"]} == expected
    if component == "handled":
        t11 = next(t for t in body["results"] if t["id"] == stats_fixture.tasks["T11"].pk)
        assert (t11["person"]["display_name"], t11["acted_by"]["display_name"]) == (
            "leo",
            "charlie",
        )
        assert t11["working_hours"] == 1.0


def test_the_component_link_lists_exactly_the_counted_tasks(stats_fixture, org, personas):
    sam = personas["sam"]
    row = get(sam, f"/api/v1/stats/units/{org.office.pk}/?{Q}").json()
    for part in row["components"]:
        listed = get(sam, part["tasks"]).json()["results"]
        assert len(listed) == part["count"], part["key"]


def test_csv_export(stats_fixture, org, personas):
    response = get(personas["sam"], f"/api/v1/stats/units/?{Q}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="units.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_unit = {r["单位"]: r for r in rows}
    assert set(by_unit) == {
        "测试市",
        "测试市政府办公室",
        "测试市发展和改革委员会",
        "东区",
        "东区街道",
    }
    office = by_unit["测试市政府办公室"]
    assert (office["办件数"], office["用时中位数(工作小时)"], office["用时P90(工作小时)"]) == (
        "7",
        "18.0",
        "36.8",
    )
    assert (office["逾期率"], office["退回率"], office["效能得分"]) == ("0.375", "0.1429", "63.2")
    assert by_unit["东区"]["效能得分"] == ""


def test_xlsx_export(stats_fixture, org, personas):
    path = f"/api/v1/stats/people/?unit={org.office.pk}&{Q}&format=xlsx"
    response = get(personas["sam"], path)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("人员ID", "用户名", "姓名", "办件数")
    bob = next(r for r in rows[1:] if r[1] == "bob")
    assert dict(zip(header, bob, strict=True))["用时P90(工作小时)"] == 25.0
    assert dict(zip(header, bob, strict=True))["办件数"] == 4


def test_exports_keep_formula_like_names_as_text(stats_fixture, org, personas):
    """A name typed by a unit admin that starts like a formula must not run in the
    supervisor's spreadsheet: it is exported as text behind an apostrophe."""
    from api.accounts.models import Unit, User

    User.objects.filter(pk=personas["bob"].pk).update(display_name='=HYPERLINK("x","点我")')
    Unit.objects.filter(pk=org.bureau.pk).update(name="+1+cmd|' /C calc'!A0")
    sam = personas["sam"]
    path = f"/api/v1/stats/people/?unit={org.office.pk}&{Q}&format=xlsx"
    sheet = load_workbook(io.BytesIO(get(sam, path).content)).active
    cell = next(row[2] for row in sheet.iter_rows(min_row=2) if row[1].value == "bob")
    assert (cell.data_type, cell.value) == ("s", '\'=HYPERLINK("x","点我")')
    text = get(sam, f"/api/v1/stats/units/?{Q}&format=csv").content.decode("utf-8-sig")
    names = [r["单位"] for r in csv.DictReader(io.StringIO(text))]
    assert "'+1+cmd|' /C calc'!A0" in names
    assert "测试市政府办公室" in names  # ordinary names are left alone
    # Negative numbers are numbers, not text: they are not touched.
    from api.stats.renderers import _cell

    assert _cell(-1.5) == -1.5


def test_steps_csv_export(stats_fixture, org, personas):
    path = f"/api/v1/stats/steps/?unit={org.office.pk}&{Q}&format=csv"
    text = get(personas["sam"], path).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["步骤名称"] for r in rows] == ["核稿", "会签", "签发", "传阅"]


def test_pdf_report_renders_chinese(stats_fixture, org, personas, tmp_path):
    response = get(personas["sam"], f"/api/v1/stats/report.pdf?{Q}")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "单位效能统计报告" in text
    for name in ("测试市政府办公室", "测试市发展和改革委员会", "东区街道"):
        assert name in text
    assert "63.2" in text  # the office's score


def test_leader_reads_own_unit_only(stats_fixture, org, personas):
    leo = personas["leo"]
    body = get(leo, f"/api/v1/stats/units/?{Q}").json()
    assert [r["unit"]["id"] for r in body["results"]] == [org.office.pk]
    assert client_for(leo).get(f"/api/v1/stats/units/{org.bureau.pk}/?{Q}").status_code == 404
    people = get(leo, f"/api/v1/stats/people/?{Q}").json()  # defaults to his unit
    assert {r["person"]["display_name"] for r in people["results"]} == {"alice", "bob", "leo"}
    denied = AuditEvent.objects.filter(action="stats.read", actor_username="leo", result="denied")
    assert denied.count() == 1


def test_supervisor_reads_every_unit_in_scope(stats_fixture, org, personas):
    body = get(personas["sam"], f"/api/v1/stats/units/?{Q}").json()
    assert {r["unit"]["id"] for r in body["results"]} == {
        org.city.pk,
        org.office.pk,
        org.bureau.pk,
        org.district.pk,
        org.township.pk,
    }


def test_district_supervisor_sees_only_the_district(stats_fixture, org):
    from api.accounts.models import Role

    zoe = make_user("zoe", org.district, Role.SUPERVISOR)
    body = get(zoe, f"/api/v1/stats/units/?{Q}").json()
    assert {r["unit"]["id"] for r in body["results"]} == {org.district.pk, org.township.pk}
    assert client_for(zoe).get(f"/api/v1/stats/units/{org.office.pk}/?{Q}").status_code == 404


@pytest.mark.parametrize("name", ["bob", "charlie", "alice", "ivy"])
def test_others_are_refused_and_recorded(stats_fixture, org, personas, name):
    response = client_for(personas[name]).get(f"/api/v1/stats/units/?{Q}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert AuditEvent.objects.filter(
        action="stats.read", actor_username=name, result="denied"
    ).exists()


def test_every_query_is_audited_with_its_parameters(stats_fixture, org, personas):
    get(personas["sam"], f"/api/v1/stats/units/{org.office.pk}/tasks/?component=slow&{Q}")
    event = AuditEvent.objects.filter(action="stats.queried", actor_username="sam").latest("seq")
    assert event.detail == {
        "endpoint": "unit_tasks",
        "unit_id": org.office.pk,
        "component": "slow",
        **PERIOD,
    }


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=2025-10-17&to=2025-09-26", 400, "validation_error"),
        ("from=2024-01-01&to=2025-10-17", 400, "validation_error"),
        ("from=yesterday", 400, "validation_error"),
        ("format=xml", 404, "not_found"),
        ("cursor=garbage", 404, "not_found"),
    ],
)
def test_bad_input(stats_fixture, org, personas, query, status, code):
    response = client_for(personas["sam"]).get(f"/api/v1/stats/units/?{query}")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",  # to + 1 day leaves Python's date range
        "from=9999-12-01&to=9999-12-31",
        "from=0001-01-01&to=0001-01-02",  # Shanghai midnight is before year 1 in UTC
        "from=1899-12-31&to=1900-01-02",
        "from=2999-12-31&to=3000-01-01",
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "units/",
        "units/{office}/",
        "units/{office}/tasks/",
        "people/",
        "steps/",
        "report.pdf",
    ],
)
def test_dates_outside_the_calendar_are_400_not_500(stats_fixture, org, personas, path, query):
    path = path.replace("{office}", str(org.office.pk))
    response = client_for(personas["sam"]).get(f"/api/v1/stats/{path}?{query}")
    assert response.status_code == 400, response.content[:300]
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert "1900-01-01" in str(body["fields"])


def test_the_edges_of_the_calendar_are_accepted(stats_fixture, org, personas):
    for query in ("from=1900-01-01&to=1900-01-31", "from=2999-12-01&to=2999-12-31"):
        row = get(personas["sam"], f"/api/v1/stats/units/{org.office.pk}/?{query}").json()
        assert (row["items"], row["score"]) == (0, None)


def test_bad_component_and_csv_errors_are_json(stats_fixture, org, personas):
    sam = client_for(personas["sam"])
    response = sam.get(f"/api/v1/stats/units/{org.office.pk}/tasks/?component=nope")
    assert response.status_code == 400
    response = client_for(personas["bob"]).get("/api/v1/stats/units/?format=csv")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "permission_denied"


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _grow(org, personas, stats_fixture, n: int) -> None:
    """More units, people and tasks: the query counts below must not change."""
    from tests.api.stats.conftest import add_task, at

    for i in range(n):
        unit = make_unit(f"新增单位{i}", "bureau", org.city, code=f"X{i}")
        person = make_user(f"extra{i}", org.office)
        add_task(
            stats_fixture.instance, "review", "done", "approve",
            at(10, 13, 9), at(10, 13, 10), at(10, 14, 9), 3600, person,
        )  # fmt: skip
        add_task(
            stats_fixture.instance, "review", "open", "",
            at(10, 13, 9), None, at(10, 14, 9), None, make_user(f"u{i}", unit),
        )  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats/units/?" + Q,
        "/api/v1/stats/people/?unit={office}&" + Q,
        "/api/v1/stats/steps/?unit={office}&" + Q,
        "/api/v1/stats/units/{office}/tasks/?component=handled&" + Q,
        "/api/v1/stats/units/{office}/?" + Q,
    ],
)
def test_query_count_does_not_grow_with_rows(
    stats_fixture, org, personas, path, django_assert_max_num_queries
):
    client = client_for(personas["sam"])
    path = path.replace("{office}", str(org.office.pk))
    before = _count(client, path)
    _grow(org, personas, stats_fixture, 8)
    with django_assert_max_num_queries(before):
        assert client.get(path).status_code == 200
    # auth 2, audit ≤ 10 (the first event creates the head), reads ≤ 7 (one of them per
    # contributed figure: accountability, e-supervision)
    assert before <= 19


@requires_postgres
def test_postgres_percentiles_equal_python(stats_fixture):
    """On PostgreSQL the aggregate's percentile_cont gives the Python formula's result."""
    period = compute.Period(*(compute.date.fromisoformat(PERIOD[k]) for k in ("from", "to")))
    figures = compute.figures_by("stat_person", period)
    handled = compute.handled(period)
    for key, value in figures.items():
        seconds = [
            float(s)
            for s in handled.filter(stat_person=key).values_list("working_seconds", flat=True)
        ]
        assert value.median_seconds == pytest.approx(compute.percentile_cont(seconds, 0.5))
        assert value.p90_seconds == pytest.approx(compute.percentile_cont(seconds, 0.9))
