"""Audience scoping (发布范围): who sees a post, 404 outside, and list queries that do
not grow with the number of units. Docs: docs/publishing.md#audience."""

from __future__ import annotations

import pytest

from api.accounts.models import Role
from api.audit.models import AuditEvent
from api.publishing.models import Post
from tests.api.publishing.conftest import publish
from tests.personas import client_for, make_unit, make_user

pytestmark = pytest.mark.django_db


def _sees(user, post_id) -> bool:
    client = client_for(user)
    detail = client.get(f"/api/v1/posts/{post_id}/").status_code
    listed = post_id in [p["id"] for p in client.get("/api/v1/posts/").json()["results"]]
    assert (detail == 200) == listed, (detail, listed)
    assert detail in (200, 404)
    return detail == 200


def test_chosen_units_include_their_departments_not_subordinate_units(world, org):
    post_id = publish(world, {"kind": "units", "unit_ids": [org.bureau.pk, org.district.pk]})
    assert _sees(world.reader, post_id)
    assert _sees(world.bureau_dept_reader, post_id)  # a department of the bureau
    assert _sees(world.district_reader, post_id)
    assert not _sees(world.township_reader, post_id)  # under the district, not in it
    outsider = make_user("olga", org.office, Role.STAFF)
    assert not _sees(outsider, post_id)
    assert AuditEvent.objects.filter(
        action="post.view", result="denied", actor_id=outsider.pk
    ).exists()


def test_subtree_includes_everything_below(world, org):
    post_id = publish(world, {"kind": "subtree", "unit_ids": [org.district.pk]})
    assert _sees(world.district_reader, post_id)
    assert _sees(world.township_reader, post_id)
    assert _sees(world.leader, post_id)
    assert not _sees(world.reader, post_id)


def test_roles_and_city(world, org):
    leaders = publish(world, {"kind": "roles", "roles": ["leader"]}, title="仅领导")
    city = publish(world, {"kind": "city"}, title="全市")
    assert _sees(world.leader, leaders)
    assert not _sees(world.district_reader, leaders)
    for person in (world.reader, world.township_reader, world.leader):
        assert _sees(person, city)


def test_drafts_are_the_author_sides_only(world, org):
    response = client_for(world.editor).post(
        "/api/v1/posts/",
        {"channel": world.channel.pk, "title": "草稿", "audience": {"kind": "city"}},
        format="json",
    )
    post_id = response.json()["id"]
    assert client_for(world.publisher).get(f"/api/v1/posts/{post_id}/").status_code == 200
    assert client_for(world.reader).get(f"/api/v1/posts/{post_id}/").status_code == 404


def test_list_queries_do_not_grow_with_units(world, org, django_assert_max_num_queries):
    client = client_for(world.township_reader)

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/posts/").status_code == 200
        return len(captured.captured_queries)

    publish(world, {"kind": "units", "unit_ids": [org.township.pk]})
    few = count_queries()
    units = [make_unit(f"单位{i}", "bureau", org.city, code=f"C-X{i}") for i in range(30)]
    for i in range(5):
        publish(
            world,
            {"kind": "units", "unit_ids": [u.pk for u in units] + [org.township.pk]},
            title=f"通知{i}",
        )
    publish(world, {"kind": "subtree", "unit_ids": [org.city.pk]}, title="全市通知")
    many = count_queries()
    assert many == few
    assert Post.objects.count() == 7
    with django_assert_max_num_queries(few):
        client.get("/api/v1/posts/")
