"""Posts with A/B backups (docs/organisation.md#posts-and-ab-backups)."""

from __future__ import annotations

import pytest

from api.accounts.models import Post
from tests.api.accounts.org.helpers import error_code, events
from tests.personas import make_unit, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(org, personas):
    return Post.objects.create(
        unit=org.office, name="收发文员", holder=personas["bob"], backup=personas["leo"]
    )


class TestCreate:
    def test_unit_admin_creates_an_ab_post(self, as_, org, personas):
        department = make_unit("文电科", "department", org.office, code="C-OFF-WD")
        carol = make_user("carol", department, "staff")
        response = as_("alice").post(
            f"/api/v1/units/{org.office.pk}/posts/",
            {"name": "收发文员", "holder_id": personas["bob"].pk, "backup_id": carol.pk},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["holder"]["display_name"] == "bob" and body["backup"]["display_name"] == "carol"
        assert body["unit_id"] == org.office.pk
        (event,) = events("post.created", "success")
        assert event.detail == {
            "name": "收发文员",
            "holder_id": personas["bob"].pk,
            "backup_id": carol.pk,
        }

    def test_post_without_people(self, as_, org):
        response = as_("alice").post(
            f"/api/v1/units/{org.office.pk}/posts/", {"name": "空岗"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["holder"] is None and response.json()["backup"] is None

    @pytest.mark.parametrize(
        ("persona", "status"), [("bob", 403), ("charlie", 404), ("dana", 404), ("sam", 403)]
    )
    def test_who_may_not(self, as_, org, persona, status):
        response = as_(persona).post(
            f"/api/v1/units/{org.office.pk}/posts/", {"name": "x"}, format="json"
        )
        assert response.status_code == status
        assert events("post.create", "denied")[-1].actor_username == persona
        assert not Post.objects.exists()

    def test_backup_must_differ_and_belong_to_the_subtree(self, as_, org, personas):
        url = f"/api/v1/units/{org.office.pk}/posts/"
        bob = personas["bob"].pk
        response = as_("alice").post(
            url, {"name": "x", "holder_id": bob, "backup_id": bob}, format="json"
        )
        assert response.status_code == 400 and "backup_id" in response.json()["error"]["fields"]
        # charlie is in the bureau: not a person of the office.
        response = as_("alice").post(
            url,
            {"name": "x", "holder_id": bob, "backup_id": personas["charlie"].pk},
            format="json",
        )
        assert response.status_code == 400 and "backup_id" in response.json()["error"]["fields"]
        response = as_("alice").post(url, {"name": "x", "holder_id": 987654}, format="json")
        assert response.status_code == 400 and "holder_id" in response.json()["error"]["fields"]
        assert not Post.objects.exists()

    def test_name_is_unique_in_a_unit(self, as_, org, post):
        response = as_("alice").post(
            f"/api/v1/units/{org.office.pk}/posts/", {"name": "收发文员"}, format="json"
        )
        assert response.status_code == 400 and "name" in response.json()["error"]["fields"]


class TestReadChangeDelete:
    @pytest.mark.parametrize(
        ("persona", "status"),
        [("alice", 200), ("bob", 200), ("ivy", 200), ("sam", 200), ("charlie", 404), ("dana", 404)],
    )
    def test_visibility(self, as_, org, post, persona, status):
        assert as_(persona).get(f"/api/v1/org-posts/{post.pk}/").status_code == status
        listing = as_(persona).get(f"/api/v1/units/{org.office.pk}/posts/")
        assert listing.status_code == status
        if status == 200:
            assert [row["name"] for row in listing.json()["results"]] == ["收发文员"]

    def test_change_backup_and_clear_holder(self, as_, org, post, personas):
        url = f"/api/v1/org-posts/{post.pk}/"
        response = as_("alice").patch(url, {"backup_id": personas["alice"].pk}, format="json")
        assert response.status_code == 200 and response.json()["backup"]["display_name"] == "alice"
        response = as_("alice").patch(url, {"holder_id": None}, format="json")
        assert response.status_code == 200 and response.json()["holder"] is None
        changes = [e.detail["changes"] for e in events("post.updated", "success")]
        assert changes == [
            {"backup_id": [personas["leo"].pk, personas["alice"].pk]},
            {"holder_id": [personas["bob"].pk, None]},
        ]

    def test_patch_cannot_make_backup_equal_holder(self, as_, post, personas):
        response = as_("alice").patch(
            f"/api/v1/org-posts/{post.pk}/", {"backup_id": personas["bob"].pk}, format="json"
        )
        assert response.status_code == 400
        post.refresh_from_db()
        assert post.backup_id == personas["leo"].pk

    def test_district_admin_gets_404_and_member_403(self, as_, post):
        url = f"/api/v1/org-posts/{post.pk}/"
        assert as_("dana").patch(url, {"name": "y"}, format="json").status_code == 404
        assert as_("dana").delete(url).status_code == 404
        response = as_("bob").patch(url, {"name": "y"}, format="json")
        assert response.status_code == 403 and error_code(response) == "permission_denied"
        assert as_("bob").delete(url).status_code == 403
        assert len(events("post.update", "denied")) == 2
        post.refresh_from_db()
        assert post.name == "收发文员"

    def test_delete(self, as_, post):
        assert as_("alice").delete(f"/api/v1/org-posts/{post.pk}/").status_code == 204
        assert not Post.objects.exists()
        (event,) = events("post.deleted", "success")
        assert event.detail["name"] == "收发文员" and event.object_id == str(post.pk)
        assert as_("alice").get(f"/api/v1/org-posts/{post.pk}/").status_code == 404
