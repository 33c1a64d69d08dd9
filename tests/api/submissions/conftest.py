"""Fixtures of the 信息报送 tests (docs/submissions.md): an editorial office with an
editor and a leader, a journal, and two reporting units each with a clerk and a
leader."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.accounts.models import Role, Unit, User
from api.submissions import actions
from api.submissions.models import EditorialOffice, Journal, Submission
from tests.personas import make_unit, make_user


@pytest.fixture(autouse=True)
def render_dir(settings, tmp_path):
    settings.GOVDESK_RENDER_DIR = tmp_path / "rendered"
    return settings.GOVDESK_RENDER_DIR


@dataclass
class World:
    office: EditorialOffice
    second_office: EditorialOffice
    journal: Journal
    editor: User
    chief: User
    unit_a: Unit
    unit_b: Unit
    unit_c: Unit
    clerk_a: User
    clerk_b: User
    clerk_c: User
    leader_a: User
    leader_b: User
    leader_c: User
    outsider: User

    def approved(
        self, clerk: User, leader: User, title: str = "我区推进冬季供暖保障"
    ) -> Submission:
        submission = actions.create_submission(
            clerk, title=title, body=f"{title}，成效明显。", category="经济"
        )
        actions.approve_submission(submission.pk, leader)
        return submission

    def sent(self, clerk: User, leader: User, title: str = "我区推进冬季供暖保障") -> Submission:
        submission = self.approved(clerk, leader, title)
        actions.submit_submission(submission.pk, clerk, [self.office.pk])
        return submission


@pytest.fixture
def world(org) -> World:
    units = []
    people = []
    for code, name in (("A", "东区人民政府"), ("B", "市发展和改革委员会"), ("C", "市教育局")):
        unit = make_unit(name, "bureau", org.city, code=f"S-{code}")
        units.append(unit)
        people.append(
            (
                make_user(f"clerk_{code.lower()}", unit, Role.CLERK, Role.STAFF),
                make_user(f"leader_{code.lower()}", unit, Role.LEADER, Role.STAFF),
            )
        )
    editor = make_user("editor", org.office, Role.STAFF, display_name="信息科编辑")
    chief = make_user("chief", org.office, Role.LEADER, Role.STAFF, display_name="秘书长")
    office = EditorialOffice.objects.create(unit=org.office, name="市政府办公室信息科")
    office.editors.add(editor)
    office.leaders.add(chief)
    second = EditorialOffice.objects.create(unit=org.office, name="市委办公室信息科")
    journal = Journal.objects.create(
        office=office,
        name="测试政务信息",
        distribution={"报": "市委、市政府领导", "发": "各区、市直各单位"},
    )
    return World(
        office=office,
        second_office=second,
        journal=journal,
        editor=editor,
        chief=chief,
        unit_a=units[0],
        unit_b=units[1],
        unit_c=units[2],
        clerk_a=people[0][0],
        clerk_b=people[1][0],
        clerk_c=people[2][0],
        leader_a=people[0][1],
        leader_b=people[1][1],
        leader_c=people[2][1],
        outsider=make_user("outsider", org.bureau, Role.CLERK, Role.STAFF),
    )
