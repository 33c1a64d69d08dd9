"""The demo seeds of the two connectors (docs/integrations.md): city cases for the
leaders' dashboard and a duty roster that covers now; a second run adds nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from api.integrations.citymgmt.demo import seed as seed_cases
from api.integrations.citymgmt.selectors import figures
from api.integrations.emergency.demo import seed as seed_duty
from api.integrations.emergency.selectors import duty_unit, officers_on_duty
from tests.personas import Role, make_user

pytestmark = pytest.mark.django_db


def test_demo_city_cases_give_figures_and_seed_once(org):
    assert seed_cases() == 60
    assert seed_cases() == 0
    city = figures()
    assert city["total"] == 60 and city["open"] == 30 and city["overdue"] > 0


def test_demo_roster_covers_now_and_seeds_once(org):
    make_user("admin", org.city, Role.CITY_IT_ADMIN)
    day = make_user("office_staff", org.office, Role.STAFF)
    night = make_user("secretary1", org.office, Role.STAFF)
    assert seed_duty() == 30  # yesterday and the next 14 days, two shifts each
    assert seed_duty() == 0
    on_duty = officers_on_duty(duty_unit(), timezone.now())
    assert on_duty in ([day], [night])
