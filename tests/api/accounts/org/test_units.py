"""Units tree: visibility, members, create, update, move (docs/organisation.md#units)."""

from __future__ import annotations

import pytest

from api.accounts.models import Unit
from tests.api.accounts.org.helpers import error_code, events
from tests.personas import make_unit, make_user

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


class TestReading:
    def test_anonymous_is_refused(self, as_, org):
        assert as_("anonymous").get("/api/v1/units/").status_code == 401

    def test_everyone_sees_the_whole_tree_in_tree_order(self, as_, org):
        response = as_("charlie").get("/api/v1/units/")
        assert response.status_code == 200
        # Depth-first: the district's township follows the district.
        assert ids(response) == [
            org.city.pk,
            org.office.pk,
            org.bureau.pk,
            org.district.pk,
            org.township.pk,
        ]
        row = response.json()["results"][4]
        assert row == {
            "id": org.township.pk,
            "name": "东区街道",
            "short_name": "",
            "code": "C-E-T",
            "kind": "township",
            "parent_id": org.district.pk,
            "depth": 2,
            "doc_prefix": "",
            "exchange_enabled": True,
            "is_active": True,
        }
        assert "path" not in row

    def test_filters(self, as_, org):
        client = as_("charlie")
        assert ids(client.get(f"/api/v1/units/?parent={org.city.pk}")) == [
            org.office.pk,
            org.bureau.pk,
            org.district.pk,
        ]
        assert ids(client.get(f"/api/v1/units/?within={org.district.pk}")) == [
            org.district.pk,
            org.township.pk,
        ]
        assert ids(client.get("/api/v1/units/?kind=township")) == [org.township.pk]
        assert ids(client.get("/api/v1/units/?q=发展")) == [org.bureau.pk]
        assert ids(client.get("/api/v1/units/?q=C-OFF")) == [org.office.pk]
        assert client.get("/api/v1/units/?parent=abc").status_code == 400
        assert client.get("/api/v1/units/?kind=planet").status_code == 400
        assert client.get("/api/v1/units/?within=999999").status_code == 404

    def test_pagination_walks_the_tree_without_gaps(self, as_, org):
        for index in range(7):
            make_unit(f"科{index}", "department", org.office, code=f"D{index}")
        client = as_("charlie")
        seen: list[int] = []
        url = "/api/v1/units/?page_size=3"
        while url:
            body = client.get(url).json()
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
        assert seen == list(Unit.objects.order_by("path").values_list("id", flat=True))
        assert len(seen) == 12

    def test_forged_cursor_is_a_404_not_a_500(self, as_, org):
        import base64

        cursor = base64.b64encode(b"p=%00abc").decode()
        response = as_("charlie").get(f"/api/v1/units/?cursor={cursor}")
        assert response.status_code == 404

    def test_detail_and_children(self, as_, org):
        client = as_("charlie")
        assert client.get(f"/api/v1/units/{org.district.pk}/").json()["name"] == "东区"
        assert ids(client.get(f"/api/v1/units/{org.district.pk}/children/")) == [org.township.pk]
        assert client.get("/api/v1/units/987654/").status_code == 404
        assert client.get("/api/v1/units/99999999999999999999999/").status_code == 404


class TestMembers:
    @pytest.mark.parametrize(
        ("persona", "status"),
        [
            ("bob", 200),  # member of the office
            ("alice", 200),  # its unit admin
            ("ivy", 200),  # city IT admin
            ("sam", 200),  # supervisor (city scope)
            ("charlie", 404),  # another unit
            ("dana", 404),  # admin of another subtree
        ],
    )
    def test_who_sees_the_office_members(self, as_, org, persona, status):
        response = as_(persona).get(f"/api/v1/units/{org.office.pk}/members/")
        assert response.status_code == status
        if status == 404:
            assert error_code(response) == "not_found"
            denied = events("unit.members", "denied")
            assert denied and denied[-1].actor_username == persona

    def test_members_list_roles(self, as_, org, personas):
        body = as_("bob").get(f"/api/v1/units/{org.office.pk}/members/").json()
        by_name = {row["username"]: row for row in body["results"]}
        assert set(by_name) == {"alice", "bob", "leo"}
        assert {r["role"] for r in by_name["bob"]["roles"]} == {"clerk", "staff"}
        assert by_name["bob"]["unit_id"] == org.office.pk

    def test_member_of_a_department_sees_the_parent_unit(self, as_, org):
        from tests.personas import client_for

        department = make_unit("秘书科", "department", org.office, code="C-OFF-MS")
        clerk2 = make_user("carol", department, "staff")
        response = client_for(clerk2).get(f"/api/v1/units/{org.office.pk}/members/?subtree=true")
        assert response.status_code == 200
        assert "carol" in {row["username"] for row in response.json()["results"]}
        # ...but a member of the office does not see the bureau's people.
        assert client_for(clerk2).get(f"/api/v1/units/{org.bureau.pk}/members/").status_code == 404

    def test_membership_stops_at_the_next_body(self, as_, org):
        from tests.personas import client_for

        district_staff = client_for(make_user("dave", org.district, "staff"))
        township_staff = client_for(make_user("tina", org.township, "staff"))
        city_staff = client_for(make_user("mayor", org.city, "leader"))
        department = make_unit("区府办", "department", org.district, code="C-E-OFF")
        make_user("desk", department, "staff")
        assert township_staff.get(f"/api/v1/units/{org.district.pk}/members/").status_code == 404
        assert district_staff.get(f"/api/v1/units/{org.township.pk}/members/").status_code == 404
        assert city_staff.get(f"/api/v1/units/{org.office.pk}/members/").status_code == 404
        assert district_staff.get(f"/api/v1/units/{department.pk}/members/").status_code == 200
        # A plain member's subtree view covers their body's departments, not the township…
        url = f"/api/v1/units/{org.district.pk}/members/?subtree=true"
        names = {row["username"] for row in district_staff.get(url).json()["results"]}
        assert names == {"dana", "dave", "desk"}
        # …while the district's admin sees every unit below.
        names = {row["username"] for row in as_("dana").get(url).json()["results"]}
        assert names == {"dana", "dave", "desk", "tina"}

    def test_district_supervisor_sees_only_the_district(self, as_, org):
        from tests.personas import client_for

        inspector = make_user("ines", org.district, "supervisor")
        client = client_for(inspector)
        assert client.get(f"/api/v1/units/{org.township.pk}/members/").status_code == 200
        assert client.get(f"/api/v1/units/{org.office.pk}/members/").status_code == 404


class TestCreate:
    def test_unit_admin_creates_a_department_inside_their_unit(self, as_, org):
        response = as_("alice").post(
            "/api/v1/units/",
            {
                "parent_id": org.office.pk,
                "name": "秘书科",
                "code": "C-OFF-MS",
                "kind": "department",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        unit = Unit.objects.get(pk=response.json()["id"])
        assert unit.path == org.office.path + str(unit.pk).zfill(9) + "."
        assert unit.depth == 2 and response.json()["depth"] == 2
        (event,) = events("unit.created", "success")
        assert event.actor_username == "alice" and event.object_id == str(unit.pk)

    def test_outside_the_subtree_is_refused_and_audited(self, as_, org):
        body = {"parent_id": org.bureau.pk, "name": "科", "code": "X1", "kind": "department"}
        response = as_("alice").post("/api/v1/units/", body, format="json")
        assert response.status_code == 403 and error_code(response) == "permission_denied"
        assert events("unit.create", "denied")[-1].actor_username == "alice"
        assert as_("charlie").post("/api/v1/units/", body, format="json").status_code == 403
        assert as_("ivy").post("/api/v1/units/", body, format="json").status_code == 201
        assert not Unit.objects.filter(code="X1", parent=org.office).exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "测试市政府办公室", "code": "NEW"}, "name"),  # sibling name taken
            ({"name": "新单位", "code": "C-OFF"}, "code"),  # code taken
            ({"name": "新单位", "code": "NEW", "kind": "city"}, "kind"),  # only the root
            ({"name": "新单位", "code": "has space"}, "code"),
        ],
    )
    def test_invalid(self, as_, org, body, field):
        payload = {"parent_id": org.city.pk, "kind": "bureau", **body}
        response = as_("ivy").post("/api/v1/units/", payload, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["fields"]

    def test_unknown_field_and_missing_parent(self, as_, org):
        body = {"parent_id": org.city.pk, "name": "a", "code": "A", "kind": "bureau", "path": "x"}
        response = as_("ivy").post("/api/v1/units/", body, format="json")
        assert error_code(response) == "unknown_field"
        body = {"parent_id": 424242, "name": "a", "code": "A", "kind": "bureau"}
        response = as_("ivy").post("/api/v1/units/", body, format="json")
        assert response.status_code == 400 and "parent_id" in response.json()["error"]["fields"]


class TestUpdateAndMove:
    def test_unit_admin_renames_inside_subtree_only(self, as_, org):
        url = f"/api/v1/units/{org.office.pk}/"
        response = as_("alice").patch(url, {"short_name": "市府办"}, format="json")
        assert response.status_code == 200 and response.json()["short_name"] == "市府办"
        (event,) = events("unit.updated", "success")
        assert event.detail["changes"] == {"short_name": ["", "市府办"]}
        response = as_("dana").patch(url, {"short_name": "x"}, format="json")
        assert response.status_code == 403
        assert events("unit.update", "denied")[-1].actor_username == "dana"

    def test_no_change_writes_no_event(self, as_, org):
        url = f"/api/v1/units/{org.office.pk}/"
        assert as_("alice").patch(url, {"name": org.office.name}, format="json").status_code == 200
        assert events("unit.updated") == []

    def test_only_city_it_admin_moves(self, as_, org):
        url = f"/api/v1/units/{org.township.pk}/"
        response = as_("dana").patch(url, {"parent_id": org.office.pk}, format="json")
        assert response.status_code == 403
        assert events("unit.move", "denied")[-1].detail["reason"] == "move_requires_city_it_admin"
        org.township.refresh_from_db()
        assert org.township.parent_id == org.district.pk

    def test_move_rewrites_the_whole_subtree(self, as_, org):
        a = make_unit("甲科", "department", org.township, code="A")
        b = make_unit("乙组", "department", a, code="B")
        untouched = make_unit("丙科", "department", org.office, code="C3")
        before = {u.pk: u.path for u in Unit.objects.all()}
        response = as_("ivy").patch(
            f"/api/v1/units/{org.township.pk}/", {"parent_id": org.bureau.pk}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["parent_id"] == org.bureau.pk
        for unit in (org.township, a, b, untouched):
            unit.refresh_from_db()
        assert org.township.path == org.bureau.path + before[org.township.pk][-10:]
        assert a.path == org.township.path + before[a.pk][-10:]
        assert b.path == a.path + before[b.pk][-10:]
        assert [org.township.depth, a.depth, b.depth] == [2, 3, 4]
        assert untouched.path == before[untouched.pk]
        for unit in Unit.objects.all():
            assert unit.path == unit.compute_path()
        (event,) = events("unit.moved", "success")
        assert event.detail == {
            "from_parent_id": org.district.pk,
            "to_parent_id": org.bureau.pk,
            "subtree_size": 3,
        }
        # Subtree queries follow the move.
        body = as_("ivy").get(f"/api/v1/units/?within={org.bureau.pk}").json()
        assert {r["id"] for r in body["results"]} == {org.bureau.pk, org.township.pk, a.pk, b.pk}

    def test_move_into_own_subtree_or_root_is_refused(self, as_, org):
        response = as_("ivy").patch(
            f"/api/v1/units/{org.district.pk}/", {"parent_id": org.township.pk}, format="json"
        )
        assert response.status_code == 400 and "parent_id" in response.json()["error"]["fields"]
        response = as_("ivy").patch(
            f"/api/v1/units/{org.city.pk}/", {"parent_id": org.office.pk}, format="json"
        )
        assert response.status_code == 400
        org.district.refresh_from_db()
        assert org.district.parent_id == org.city.pk
