"""The demo accountability case: created once, seen by the unit's leader only
(docs/accountability.md#demo)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from api.accountability.demo import seed_case
from api.accountability.models import AccountabilityCase
from api.accounts.models import User
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_the_demo_case_is_seeded_once_and_seen_by_the_units_leader():
    call_command("seed_demo", stdout=io.StringIO())
    case = AccountabilityCase.objects.get()
    assert (case.unit.code, case.status, case.source_kind) == (
        "XC-FGW",
        "findings_recorded",
        "supervision_item",
    )
    assert case.linked["supervised_item"]["light"] == "red"
    assert seed_case() == 0
    call_command("seed_demo", stdout=io.StringIO())
    assert AccountabilityCase.objects.count() == 1
    cases = "/api/v1/accountability/cases/"
    leader = client_for(User.objects.get(username="b_leader"))
    assert [c["id"] for c in leader.get(cases).json()["results"]] == [case.pk]
    clerk = client_for(User.objects.get(username="b_clerk"))
    assert clerk.get(f"{cases}{case.pk}/").status_code == 404
    supervisor = client_for(User.objects.get(username="supervisor"))
    decided = supervisor.post(
        f"{cases}{case.pk}/decide/",
        {"outcome_kind": "reminder_talk", "outcome_text": "对分管负责人提醒谈话。"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
