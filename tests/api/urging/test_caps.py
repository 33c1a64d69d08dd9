"""The cap per urged person and item, across every urger and both task and
supervision urges (docs/urging.md#the-cap-per-person-and-item): at most
GOVDESK_URGE_CAP_PER_WINDOW urges per GOVDESK_URGE_CAP_WINDOW_MINUTES, of which one
may climb the ladder to SMS; refusals are 429 ``urge_capped`` and audited.

SMS are counted the way tests/api/notify/test_ladder.py counts them: the ladder queues
``Delivery(channel=sms)`` rows, the worker sends them to the loopback Aliyun SMS fake,
and the fake's journal lists what it accepted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.accounts.models import Role, RoleAssignment
from api.audit.models import AuditEvent
from api.common.errors import ApiError
from api.notify import delivery, ladder
from api.notify.models import Channel, Delivery, Notification, UrgeWindow
from api.supervision import actions as supervision
from api.supervision.models import SupervisedItem
from api.urging import actions
from api.urging.models import UrgeRecord
from tests.api.notify.conftest import sms, sms_sent  # noqa: F401 — the SMS fake fixture
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db

LEO_MOBILE = "13800138009"


@pytest.fixture
def leo(personas):
    leo = personas["leo"]
    leo.mobile = LEO_MOBILE
    leo.save(update_fields=["mobile"])
    return leo


@pytest.fixture
def task(make_task, leo):
    now = timezone.now()
    return make_task(leo, received=now - timedelta(hours=1), due=now + timedelta(days=3))


@pytest.fixture
def urgers(org):
    """Ten different people who may urge leo's task: inspectors (of the bureau's
    staff) supervising the whole city."""
    people = [make_user(f"inspector{i}", org.bureau, Role.STAFF) for i in range(10)]
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=person, role=Role.SUPERVISOR, unit=org.city) for person in people
    )
    return people


def urge_over_http(user, task_id, message="请尽快办理。"):
    return client_for(user).post(
        f"/api/v1/tasks/{task_id}/urge/",
        {"message": message},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def run_ladder_and_send(at) -> None:
    ladder.run(at)
    delivery.deliver(None, at)


@pytest.fixture
def no_quiet_hours(settings):
    settings.GOVDESK_NOTIFY_QUIET_HOURS = None  # the test must not depend on the hour


def test_ten_urges_from_ten_people_within_a_minute_send_one_sms(
    task,
    urgers,
    leo,
    sms,  # noqa: F811 — the fixture imported above
    no_quiet_hours,
    settings,
):
    assert settings.GOVDESK_URGE_CAP_PER_WINDOW == 3
    answers = [urge_over_http(user, task.pk) for user in urgers]
    assert [a.status_code for a in answers] == [201] * 3 + [429] * 7
    refused = answers[3].json()["error"]
    assert refused["code"] == "urge_capped"
    assert "urged about this item" in refused["message"]
    assert 0 < refused["retry_after"] <= 3600
    assert answers[3]["Retry-After"] == str(refused["retry_after"])
    # Every refusal audited, naming the person spared and the cap.
    denied = AuditEvent.objects.filter(action="task.urge", result="denied")
    assert denied.count() == 7
    assert {e.detail["reason"] for e in denied} == {"urge_capped"}
    assert {e.detail["urged_id"] for e in denied} == {leo.pk}
    assert sorted(e.actor_username for e in denied) == sorted(u.username for u in urgers[3:])
    assert UrgeRecord.objects.filter(kind="manual").count() == 3
    # The three let through reach leo in the app; only the first may climb to SMS.
    notes = list(Notification.objects.filter(kind="urge", recipient=leo).order_by("id"))
    assert len(notes) == 3
    assert notes[0].sms_due_at is not None
    assert [n.sms_due_at for n in notes[1:]] == [None, None]
    assert {n.ladder_note for n in notes[1:]} == {"sms_urge_capped"}
    # Long after every SMS rung was due: one SMS row, one SMS at the fake.
    run_ladder_and_send(timezone.now() + timedelta(hours=2))
    assert Delivery.objects.filter(channel=Channel.SMS).count() == 1
    assert [s["recipient"] for s in sms_sent(sms)] == [LEO_MOBILE]


def test_with_a_higher_cap_all_ten_go_through_and_still_one_sms(
    task,
    urgers,
    leo,
    sms,  # noqa: F811 — the fixture imported above
    no_quiet_hours,
    settings,
):
    settings.GOVDESK_URGE_CAP_PER_WINDOW = 10
    assert all(urge_over_http(user, task.pk).status_code == 201 for user in urgers)
    assert Notification.objects.filter(kind="urge", recipient=leo).count() == 10
    run_ladder_and_send(timezone.now() + timedelta(hours=2))
    assert [s["recipient"] for s in sms_sent(sms)] == [LEO_MOBILE]


def test_a_new_window_allows_urges_and_one_sms_again(task, urgers, leo):
    start = timezone.now()
    for user in urgers[:3]:
        actions.urge(task.pk, user, "请办理。", now=start)
    later = start + timedelta(minutes=59)
    with pytest.raises(ApiError) as refused:
        actions.urge(task.pk, urgers[3], "请办理。", now=later)
    assert refused.value.code == "urge_capped"
    assert refused.value.extra["retry_after"] == 60
    fresh = actions.urge(task.pk, urgers[3], "请办理。", now=start + timedelta(minutes=60))
    note = Notification.objects.get(pk=fresh.notification_id)
    assert note.sms_due_at is not None  # the window's first urge climbs to SMS again
    row = UrgeWindow.objects.get(person=leo)
    assert (row.item, row.count) == (f"document:{task.document_id}", 1)


def test_the_cap_is_per_person_and_item(make_task, task, urgers, personas, leo):
    for user in urgers[:3]:
        assert urge_over_http(user, task.pk).status_code == 201
    # Another document of leo's: its own cap.
    other = make_task(leo, received=timezone.now(), due=timezone.now() + timedelta(days=1))
    assert urge_over_http(urgers[3], other.pk).status_code == 201
    # Another person about the first document: their own cap.
    carol = make_user("carol", leo.unit, Role.STAFF)
    hers = make_task(carol, received=timezone.now(), due=timezone.now() + timedelta(days=1))
    assert urge_over_http(urgers[4], hers.pk).status_code == 201


def test_the_per_urger_interval_refusal_is_audited_too(task, personas):
    assert urge_over_http(personas["alice"], task.pk).status_code == 201
    again = urge_over_http(personas["alice"], task.pk)
    assert again.status_code == 429 and again.json()["error"]["code"] == "urge_too_soon"
    (event,) = AuditEvent.objects.filter(action="task.urge", result="denied")
    assert event.detail["reason"] == "urge_too_soon" and event.actor_username == "alice"


def test_an_automatic_urge_takes_the_sms_slot_but_never_the_count(make_task, urgers, leo, settings):
    from tests.api.urging.conftest import at

    settings.GOVDESK_URGE_CAP_WINDOW_MINUTES = 60
    red = make_task(leo, received=at("2026-11-20 10:00"), due=at("2026-11-23 10:00"))
    scan_at = at("2026-11-23 11:00")
    assert actions.scan_deadlines(scan_at).red == 1
    auto = Notification.objects.get(kind="urge", recipient=leo)
    assert auto.sms_due_at is not None
    # Three manual urges in the same hour still go through, none by SMS.
    for minute, user in enumerate(urgers[:3], start=1):
        manual = actions.urge(red.pk, user, "请办理。", now=scan_at + timedelta(minutes=minute))
        assert Notification.objects.get(pk=manual.notification_id).sms_due_at is None


class TestSupervisionUrges:
    @pytest.fixture
    def item(self, org, personas, task):
        """A supervised item about leo's document, owned by the office (leo and bob
        are its leader and clerk)."""
        return SupervisedItem.objects.create(
            title="推进“一网通办”",
            source="manual",
            owner_unit=org.office,
            document=task.document,
            deadline=timezone.now() + timedelta(days=30),
            created_by=personas["sam"],
        )

    def urge(self, who, item_id):
        return client_for(who).post(f"/api/v1/supervision/items/{item_id}/urge/", {}, format="json")

    def test_supervision_urges_are_capped_per_person_and_refused_when_all_are(self, personas, item):
        sam = personas["sam"]
        for _ in range(3):
            response = self.urge(sam, item.pk)
            assert response.status_code == 201, response.content
        refused = self.urge(sam, item.pk)
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "urge_capped" and error["retry_after"] > 0
        assert "催办" in error["message"]  # zh-CN by default
        (event,) = AuditEvent.objects.filter(action="supervision.urge", result="denied")
        assert event.detail["reason"] == "urge_capped"
        assert sorted(event.detail["capped"]) == sorted([personas["leo"].pk, personas["bob"].pk])
        # One SMS-able notification per person over the three urges.
        for who in ("leo", "bob"):
            notes = Notification.objects.filter(kind="supervision", recipient=personas[who])
            assert notes.count() == 3
            assert notes.exclude(sms_due_at=None).count() == 1

    def test_task_and_supervision_urges_share_the_cap_of_the_document(
        self, personas, item, task, urgers, leo
    ):
        for user in urgers[:2]:
            assert urge_over_http(user, task.pk).status_code == 201
        response = self.urge(personas["sam"], item.pk)
        assert response.status_code == 201
        # leo had two urges about the document: the supervision urge was his third,
        # and reached him without SMS; bob's first was SMS-able.
        assert sorted(response.json()["recipients"]) == sorted([leo.pk, personas["bob"].pk])
        leo_note = Notification.objects.get(kind="supervision", recipient=leo)
        assert leo_note.sms_due_at is None
        bob_note = Notification.objects.get(kind="supervision", recipient=personas["bob"])
        assert bob_note.sms_due_at is not None
        # Now leo is at the cap: a fourth urge from anyone leaves him out.
        again = self.urge(personas["sam"], item.pk)
        assert again.status_code == 201
        assert again.json()["recipients"] == [personas["bob"].pk]
        event = AuditEvent.objects.filter(action="supervision.urged").order_by("-id").first()
        assert event is not None and event.detail["capped"] == [leo.pk]
        blocked = urge_over_http(urgers[2], task.pk)
        assert blocked.status_code == 429

    def test_the_action_refuses_with_nothing_written(self, personas, item):
        sam = personas["sam"]
        for _ in range(3):
            supervision.urge(item.pk, sam)
        with pytest.raises(ApiError) as refused:
            supervision.urge(item.pk, sam)
        assert refused.value.code == "urge_capped"
        assert item.urges.count() == 3
