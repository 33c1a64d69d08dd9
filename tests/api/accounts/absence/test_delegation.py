"""acting_for / absent_users: the routing rule of docs/delegation.md#routing-rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.accounts.delegation import absent_users, acting_for, backup_of, is_absent
from api.accounts.models import Post
from tests.api.accounts.absence.conftest import make_absence
from tests.personas import Role, make_user

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_present_user_acts_for_themselves(personas, leo_post):
    assert acting_for(personas["leo"]) == personas["leo"]


def test_absent_user_is_replaced_by_the_backup_of_their_post(personas, leo_post, deputy):
    make_absence(personas["leo"], start_in=-HOUR, length=DAY)
    assert is_absent(personas["leo"])
    assert acting_for(personas["leo"]) == deputy


def test_the_moment_is_respected(personas, leo_post, deputy):
    absence = make_absence(personas["leo"], start_in=DAY, length=DAY)
    assert acting_for(personas["leo"]) == personas["leo"]
    assert acting_for(personas["leo"], absence.starts_at) == deputy
    assert acting_for(personas["leo"], absence.ends_at - timedelta(seconds=1)) == deputy
    assert acting_for(personas["leo"], absence.ends_at) == personas["leo"]  # end is exclusive


def test_cancelled_absence_does_not_count(personas, leo_post):
    make_absence(personas["leo"], start_in=-HOUR, length=DAY, cancelled_at=timezone.now())
    assert acting_for(personas["leo"]) == personas["leo"]
    assert list(absent_users()) == []


def test_no_post_with_a_backup_means_nobody_stands_in(personas):
    make_absence(personas["bob"], start_in=-HOUR, length=DAY)
    assert acting_for(personas["bob"]) == personas["bob"]


def test_several_posts_the_first_created_decides(personas, leo_post, deputy, org):
    other = make_user("other", org.office, Role.STAFF)
    Post.objects.create(unit=org.bureau, name="联络员", holder=personas["leo"], backup=other)
    make_absence(personas["leo"], start_in=-HOUR, length=DAY)
    assert acting_for(personas["leo"]) == deputy
    # An inactive backup cannot stand in: the next post's backup does.
    deputy.is_active = False
    deputy.save(update_fields=["is_active"])
    assert acting_for(personas["leo"]) == other


def test_chains_are_not_followed(personas, leo_post, deputy, org):
    third = make_user("third", org.office, Role.STAFF)
    Post.objects.create(unit=org.office, name="秘书", holder=deputy, backup=third)
    make_absence(personas["leo"], start_in=-HOUR, length=DAY)
    make_absence(deputy, start_in=-HOUR, length=DAY)
    assert acting_for(deputy) == third
    # leo's work stays with deputy even though deputy is away too (A → B, never → C).
    assert acting_for(personas["leo"]) == deputy


def test_absent_users_lists_those_in_effect(personas, leo_post, deputy):
    make_absence(personas["leo"], start_in=-HOUR, length=DAY)
    make_absence(personas["bob"], start_in=DAY, length=DAY)
    make_absence(personas["alice"], start_in=-2 * DAY, length=DAY)  # already over
    assert list(absent_users()) == [personas["leo"]]
    assert set(absent_users(timezone.now() + DAY + HOUR)) == {personas["bob"]}


def test_backup_of(personas, leo_post, deputy):
    assert backup_of(personas["leo"]) == deputy
    assert backup_of(personas["bob"]) is None


def test_acting_for_costs_at_most_two_queries(
    personas, leo_post, deputy, django_assert_max_num_queries
):
    make_absence(personas["leo"], start_in=-HOUR, length=DAY)
    with django_assert_max_num_queries(2):
        assert acting_for(personas["leo"]).display_name == "副手"
    with django_assert_max_num_queries(1):
        acting_for(personas["bob"])
