"""Document time limits (限时办结) over HTTP (docs/workflow.md#document-time-limits).

The seed's rule: an ordinary document is done within 1 working day, one that several
leaders countersign within 3. Real logins on the demo city (``seed_demo``); the clock
is moved with ``django.utils.timezone.now`` (the working calendar is the real 2026 one:
清明 4–6 April is off, 3 April is a Friday).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

import pytest

from api.workdays import calendar
from api.workdays.deadlines import TZ

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def iso(text: str) -> str:
    return at(text).isoformat()


@contextmanager
def clock(text: str):
    with mock.patch("django.utils.timezone.now", return_value=at(text)):
        yield


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.invalidate()
    yield
    calendar.invalidate()


def _signed_in(demo, *names: str) -> None:
    for name in names:  # real tokens, issued at the real time before the clock moves
        demo.client(name)


def _submit(demo, document_id: int, template_id: int, participants: dict) -> dict:
    response = demo.client("clerk").post(
        f"/api/v1/documents/{document_id}/submit/",
        {"template_id": template_id, "participants": participants},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"submit-{uuid.uuid4()}",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _document(demo, document_id: int, who: str = "clerk") -> dict:
    response = demo.client(who).get(f"/api/v1/documents/{document_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def _task_detail(demo, who: str, task_id: int) -> dict:
    response = demo.client(who).get(f"/api/v1/tasks/{task_id}/", {"read": "0"})
    assert response.status_code == 200, response.content
    return response.json()


def _approve(demo, who: str, task_id: int) -> dict:
    response = demo.approve(who, task_id)
    assert response.status_code == 200, response.content
    return response.json()


def test_ordinary_notice_submitted_friday_17_before_qingming_is_due_tuesday_17(demo):
    """Fri 3 Apr 2026 17:00 + 1 working day: 4–6 April (清明) are off, so the whole
    document is due Tue 7 Apr 17:00 — and every one of its tasks says so."""
    people = ("clerk", "director", "leader1", "mayor", "custodian")
    _signed_in(demo, *people)
    due = iso("2026-04-07 17:00")
    with clock("2026-04-03 16:00"):
        document_id = demo.draft(urgency="normal")
    with clock("2026-04-03 17:00"):
        _submit(
            demo,
            document_id,
            demo.template_id(),
            {"countersigners": [demo.id("leader1")], "sign_off_by": demo.id("mayor")},
        )
        document = _document(demo, document_id)
    assert document["time_limit_days"] == 1.0
    assert document["due_at"] == due
    assert document["overdue"] is False

    seen = []
    # Each step is done a little later; every task shows the same overall due time,
    # and no step is due after it.
    for who, moment in (
        ("director", "2026-04-07 09:00"),
        ("leader1", "2026-04-07 10:00"),
        ("mayor", "2026-04-07 11:00"),
        ("custodian", "2026-04-07 12:00"),
    ):
        with clock(moment):
            item = demo.todo_for(who, document_id)
            assert item["document"]["due_at"] == due, who
            assert item["document"]["overdue"] is False
            assert item["due_at"] == due, who  # an ordinary step: what is left = the rest
            assert _task_detail(demo, who, item["id"])["document"]["due_at"] == due
            seen.append(item["step"]["kind"])
            if who != "custodian":  # sealing is the seal step's own flow (docs/seals.md)
                assert _approve(demo, who, item["id"])["document"]["due_at"] == due
    assert seen == ["review", "countersign", "sign_off", "seal"]


def test_a_return_to_the_drafter_pauses_the_document_clock(demo):
    """Submitted Mon 13 Apr 10:00 (due Tue 14 Apr 10:00); back with the drafter from Mon
    16:00 to Wed 15 Apr 09:00; 18 working hours were left, so due Thu 16 Apr 03:00."""
    _signed_in(demo, "clerk", "director")
    participants = {"countersigners": [demo.id("leader1")], "sign_off_by": demo.id("mayor")}
    with clock("2026-04-13 10:00"):
        document_id = demo.draft(urgency="normal")
        _submit(demo, document_id, demo.template_id(), participants)
    assert _document(demo, document_id)["due_at"] == iso("2026-04-14 10:00")
    with clock("2026-04-13 16:00"):
        review = demo.todo_for("director", document_id)
        response = demo.client("director").post(
            f"/api/v1/tasks/{review['id']}/return/",
            {"opinion": "请补充资金来源。", "to": "drafter"},
            format="json",
        )
        assert response.status_code == 200, response.content
    with clock("2026-04-15 08:00"):  # two days later: paused, not overdue
        paused = _document(demo, document_id)
        assert paused["overdue"] is False
        assert paused["due_at"] == iso("2026-04-14 10:00")
    with clock("2026-04-15 09:00"):
        _submit(demo, document_id, demo.template_id(), participants)
        again = demo.todo_for("director", document_id)
    assert again["document"]["due_at"] == iso("2026-04-16 03:00")
    assert again["due_at"] == iso("2026-04-16 03:00")


def _sequential_template(demo) -> int:
    from api.accounts.models import Unit
    from api.workflow.models import TemplateStep, WorkflowTemplate

    template = WorkflowTemplate.objects.create(
        unit=Unit.objects.get(code="XC-OFF"), name="顺序会签发文", direction="outgoing"
    )
    TemplateStep.objects.create(
        template=template,
        order=1,
        kind="countersign",
        name="会签",
        assignee_kind="drafter_choice",
        choice_key="countersigners",
        countersign_mode="sequential",
    )
    TemplateStep.objects.create(
        template=template,
        order=2,
        kind="sign_off",
        name="签发",
        assignee_kind="drafter_choice",
        choice_key="sign_off_by",
    )
    return template.pk


def test_four_leaders_countersigning_in_turn_share_three_working_days(demo):
    """Submitted Mon 13 Apr 09:00: the document is due Thu 16 Apr 09:00 (3 working days,
    72 h of working clock). Each turn gets an even share of what is left among the
    turns still to come: 18 h; then (66 h left) 22 h; then (44 h) 22 h; then the rest."""
    leaders = ("leader1", "leader2", "leader3", "deputy1")
    _signed_in(demo, "clerk", "mayor", *leaders)
    template_id = _sequential_template(demo)
    doc_due = iso("2026-04-16 09:00")
    with clock("2026-04-13 09:00"):
        document_id = demo.draft(urgency="normal")
        _submit(
            demo,
            document_id,
            template_id,
            {
                "countersigners": [demo.id(name) for name in leaders],
                "sign_off_by": demo.id("mayor"),
            },
        )
    document = _document(demo, document_id)
    assert document["time_limit_days"] == 3.0
    assert document["due_at"] == doc_due

    turns = (
        # who, acts at, the turn's due time
        ("leader1", "2026-04-13 15:00", "2026-04-14 03:00"),  # 72 h / 4 = 18 h
        ("leader2", "2026-04-14 13:00", "2026-04-14 13:00"),  # 66 h / 3 = 22 h
        ("leader3", "2026-04-15 12:00", "2026-04-15 11:00"),  # 44 h / 2 = 22 h (acts late)
        ("deputy1", "2026-04-15 20:00", "2026-04-16 09:00"),  # 21 h / 1: the document's
    )
    for who, acts_at, turn_due in turns:
        with clock(acts_at):
            item = demo.todo_for(who, document_id)
            assert item["step"]["kind"] == "countersign"
            assert item["due_at"] == iso(turn_due), who
            assert item["document"]["due_at"] == doc_due
            _approve(demo, who, item["id"])
    with clock("2026-04-15 20:00"):
        sign_off = demo.todo_for("mayor", document_id)
    # Never beyond the document: the sign-off's own 1 day would be Thu 20:00.
    assert sign_off["due_at"] == doc_due
    assert sign_off["document"]["due_at"] == doc_due


def test_a_late_step_makes_the_document_overdue_once(demo):
    """The ordinary notice of Fri 3 Apr 17:00 is still with the director on Tue 7 Apr
    at 18:00: the periodic task marks it overdue once (run twice, and again after the
    step is done late), with one audit event and one urge per person."""
    from api.audit.models import AuditEvent
    from api.notify.models import Notification
    from api.workflow.tasks import mark_overdue_documents

    _signed_in(demo, "clerk", "director")
    with clock("2026-04-03 17:00"):
        document_id = demo.draft(urgency="normal")
        _submit(
            demo,
            document_id,
            demo.template_id(),
            {"countersigners": [demo.id("leader1")], "sign_off_by": demo.id("mayor")},
        )
    with clock("2026-04-07 16:59"):
        assert mark_overdue_documents() == 0  # not yet due
        assert demo.todo_for("director", document_id)["document"]["overdue"] is False
    with clock("2026-04-07 18:00"):
        item = demo.todo_for("director", document_id)
        assert item["overdue"] is True  # the step
        assert item["document"]["overdue"] is True  # and the document, before any scan
        assert mark_overdue_documents() == 1
        assert mark_overdue_documents() == 0  # a second run changes nothing
        assert (
            mark_overdue_documents.apply(kwargs={"now": at("2026-04-07 18:05").isoformat()}).get()
            == 0
        )
    with clock("2026-04-08 10:00"):
        _approve(demo, "director", item["id"])  # the late step is done, still late
        assert mark_overdue_documents() == 0
    events = AuditEvent.objects.filter(action="document.overdue", object_id=str(document_id))
    assert events.count() == 1
    assert events.get().detail["late_task_ids"] == [item["id"]]
    urged = Notification.objects.filter(dedup_key=f"document_overdue:{document_id}")
    assert sorted(urged.values_list("recipient__username", flat=True)) == ["clerk", "director"]
    document = _document(demo, document_id)
    assert document["overdue"] is True
    assert document["due_at"] == iso("2026-04-07 17:00")


def _review_only_template(demo) -> int:
    """One review step: approving it completes the document (no seal step)."""
    from api.accounts.models import Unit
    from api.workflow.models import TemplateStep, WorkflowTemplate

    template = WorkflowTemplate.objects.create(
        unit=Unit.objects.get(code="XC-OFF"), name="核稿即办结", direction="outgoing"
    )
    TemplateStep.objects.create(
        template=template,
        order=1,
        kind="review",
        name="核稿",
        assignee_kind="drafter_choice",
        choice_key="reviewer",
    )
    return template.pk


def test_statistics_show_each_document_on_time_or_late_by_how_much(demo, settings):
    """Per document unit: A done 3 working hours late (marked overdue at its completion,
    once), B on time, C still running past its due time."""
    from api.accounts.models import Unit
    from api.audit.models import AuditEvent
    from api.notify.models import Notification
    from api.workflow.tasks import mark_overdue_documents

    _signed_in(demo, "clerk", "director", "supervisor")
    template_id = _review_only_template(demo)
    reviewer = {"reviewer": demo.id("director")}
    with clock("2026-04-03 17:00"):
        late_id = demo.draft("关于甲事项的通知", urgency="normal")
        _submit(demo, late_id, template_id, reviewer)
    with clock("2026-04-07 20:00"):  # due Tue 17:00: 3 working hours late
        _approve(demo, "director", demo.todo_for("director", late_id)["id"])
        assert mark_overdue_documents() == 0  # already marked at its completion
    with clock("2026-04-13 10:00"):
        on_time_id = demo.draft("关于乙事项的通知", urgency="normal")
        _submit(demo, on_time_id, template_id, reviewer)
        open_id = demo.draft("关于丙事项的通知", urgency="normal")
        _submit(demo, open_id, template_id, reviewer)
    with clock("2026-04-13 11:00"):
        _approve(demo, "director", demo.todo_for("director", on_time_id)["id"])
    office = Unit.objects.get(code="XC-OFF").pk
    with clock("2026-04-15 12:00"):
        response = demo.client("supervisor").get(
            f"/api/v1/stats/units/{office}/", {"from": "2026-04-01", "to": "2026-04-30"}
        )
        settings.GOVDESK_PORTAL_DASHBOARD_SECONDS = 0
        dashboard = demo.client("supervisor").get("/api/v1/portal/").json()["dashboard"]
    # the supervisors' dashboard: units with documents still running past their due time
    assert dashboard["overdue_documents_by_unit"] == [
        {"unit": {"id": office, "name": Unit.objects.get(pk=office).name}, "overdue": 1}
    ]
    assert response.status_code == 200, response.content
    assert response.json()["documents"] == {
        "done": 2,
        "on_time": 1,
        "late": 1,
        "late_hours_total": 3.0,
        "late_hours_max": 3.0,
        "open_overdue": 1,
    }
    assert _document(demo, late_id)["overdue"] is True
    assert _document(demo, on_time_id)["overdue"] is False
    marked = AuditEvent.objects.filter(action="document.overdue")
    assert list(marked.values_list("object_id", flat=True)) == [str(late_id)]
    # marked at its completion: nobody is urged about a document already done
    assert not Notification.objects.filter(dedup_key=f"document_overdue:{late_id}").exists()
