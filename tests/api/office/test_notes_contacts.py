"""Notes are private; the address book masks mobile numbers by policy
(docs/personal-office.md#address-book)."""

from __future__ import annotations

import pytest

from api.accounts.models import User
from api.office import actions
from tests.conftest import requires_postgres
from tests.personas import Role, client_for, make_unit, make_user

pytestmark = [pytest.mark.django_db, requires_postgres]


def test_notes_are_private(personas):
    alice = client_for(personas["alice"])
    created = alice.post(
        "/api/v1/notes/", {"title": "待办", "body": "<b>准备材料</b>"}, format="json"
    )
    assert created.status_code == 201
    note = created.json()["id"]
    assert alice.get(f"/api/v1/notes/{note}/").json()["body"] == "<b>准备材料</b>"
    bob = client_for(personas["bob"])
    assert bob.get(f"/api/v1/notes/{note}/").status_code == 404
    assert bob.delete(f"/api/v1/notes/{note}/").status_code == 404
    assert bob.get("/api/v1/notes/").json()["results"] == []
    assert alice.delete(f"/api/v1/notes/{note}/").status_code == 204


def test_contacts_masking_by_policy(org, personas):
    for name, phone in (
        ("bob", "13800001111"),
        ("charlie", "13900002222"),
        ("dana", "13700003333"),
    ):
        User.objects.filter(username=name).update(mobile=phone)
    department = make_unit("文电科", "department", org.office, code="C-OFF-WD")
    wd = make_user("wendy", department, Role.STAFF)
    User.objects.filter(pk=wd.pk).update(mobile="13600004444")
    actions.update_card(personas["bob"], personas["bob"], "0571-1234567", "301")

    def mobiles(user, q=""):
        response = client_for(user).get("/api/v1/contacts/", {"q": q} if q else {})
        assert response.status_code == 200
        return {c["display_name"]: c["mobile"] for c in response.json()["results"]}

    # alice (office): her own body, departments included, in full; others masked
    seen = mobiles(personas["alice"])
    assert seen["bob"] == "13800001111" and seen["wendy"] == "13600004444"
    assert seen["charlie"] == "139****2222" and seen["dana"] == "137****3333"
    # charlie (bureau): the office's people masked, his own in full
    seen = mobiles(personas["charlie"])
    assert seen["bob"] == "138****1111" and seen["charlie"] == "13900002222"
    # city IT sees all; a leader's secretary (keeper) sees all
    assert mobiles(personas["ivy"])["dana"] == "13700003333"
    actions.grant_access(personas["leo"], personas["charlie"].pk, "keep")
    assert mobiles(personas["charlie"])["bob"] == "13800001111"
    # dana, unit admin of the district, sees the township below her
    town = make_user("tom", org.township, Role.STAFF)
    User.objects.filter(pk=town.pk).update(mobile="13500005555")
    assert mobiles(personas["dana"], "tom")["tom"] == "13500005555"
    assert mobiles(personas["sam"], "tom")["tom"] == "135****5555"
    # the office phone is for everyone; the vCard masks the same way
    card = client_for(personas["sam"]).get(f"/api/v1/contacts/{personas['bob'].pk}/").json()
    assert card["office_phone"] == "0571-1234567" and card["mobile_masked"]
    vcard = client_for(personas["sam"]).get(f"/api/v1/contacts/{personas['bob'].pk}/vcard/")
    assert (
        vcard.status_code == 200
        and b"0571-1234567" in vcard.content
        and b"13800001111" not in vcard.content
    )
    assert (
        b"13800001111"
        in client_for(personas["alice"])
        .get(f"/api/v1/contacts/{personas['bob'].pk}/vcard/")
        .content
    )
    # only the person or their admin sets the card
    assert (
        client_for(personas["charlie"])
        .put(f"/api/v1/contacts/{personas['bob'].pk}/", {"office_phone": "1"}, format="json")
        .status_code
        == 404
    )
    assert (
        client_for(personas["alice"])
        .put(
            f"/api/v1/contacts/{personas['bob'].pk}/",
            {"office_phone": "0571-7654321"},
            format="json",
        )
        .status_code
        == 200
    )


def test_contacts_search_by_pinyin_and_unit(org, personas, django_assert_max_num_queries):
    make_user("zhangsan", org.bureau, Role.STAFF, display_name="张三")
    client = client_for(personas["alice"])
    assert [
        c["display_name"] for c in client.get("/api/v1/contacts/", {"q": "zs"}).json()["results"]
    ] == ["张三"]
    assert "张三" in [
        c["display_name"]
        for c in client.get("/api/v1/contacts/", {"q": "发展和改革"}).json()["results"]
    ]
    tree = client.get("/api/v1/contacts/tree/", {"unit": org.bureau.pk}).json()
    assert {p["display_name"] for p in tree["people"]} == {"charlie", "张三"}
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/contacts/")
    small = len(few)
    for i in range(10):
        make_user(f"extra{i}", org.bureau if i % 2 else org.township, Role.STAFF)
    with django_assert_max_num_queries(small):
        assert len(client.get("/api/v1/contacts/").json()["results"]) > 15
