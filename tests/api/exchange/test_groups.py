"""Exchange groups (docs/exchange.md#groups), maintained by city IT admins, and the
recipient picker's unit search by name or pinyin (GET /api/v1/units/?q=)."""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from api.exchange.models import ExchangeGroup
from tests.personas import client_for, make_unit

pytestmark = pytest.mark.django_db


def test_city_it_admin_maintains_groups(ex):
    org, ivy = ex.org, client_for(ex.personas["ivy"])
    created = ivy.post(
        "/api/v1/exchange/groups/",
        {"name": "全体区县政府", "unit_ids": [org.township.pk, org.district.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    group = created.json()
    # units in tree order
    assert [u["id"] for u in group["units"]] == [org.district.pk, org.township.pk]
    taken = ivy.post(
        "/api/v1/exchange/groups/", {"name": "全体区县政府", "unit_ids": []}, format="json"
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "group_name_taken"
    path = f"/api/v1/exchange/groups/{group['id']}/"
    renamed = ivy.patch(path, {"name": "区县", "unit_ids": [org.bureau.pk]}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "区县"
    assert [u["id"] for u in renamed.json()["units"]] == [org.bureau.pk]
    unknown = ivy.patch(path, {"unit_ids": [999999]}, format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unit_not_found"
    # others read but do not change
    bob = client_for(ex.personas["bob"])
    assert bob.get(path).json()["name"] == "区县"
    assert bob.patch(path, {"name": "改名"}, format="json").status_code == 403
    assert bob.delete(path).status_code == 403
    assert ivy.delete(path).status_code == 204
    assert not ExchangeGroup.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="exchange.group").values_list(
            "action", "result"
        )
    )
    assert ("exchange.group_created", "success") in actions
    assert ("exchange.group_updated", "success") in actions
    assert ("exchange.group_deleted", "success") in actions
    assert ("exchange.group_update", "denied") in actions


def test_units_search_by_pinyin(ex):
    make_unit("新城市财政局", "bureau", ex.org.city, code="C-CZ")
    client = client_for(ex.personas["bob"])

    def names(q: str) -> list[str]:
        response = client.get("/api/v1/units/", {"q": q})
        assert response.status_code == 200
        return [u["name"] for u in response.json()["results"]]

    assert names("caizheng") == ["新城市财政局"]
    assert names("czj") == ["新城市财政局"]
    assert names("财政") == ["新城市财政局"]
    assert names("dongqu") == ["东区", "东区街道"]
    assert names("zzzz") == []


@pytest.mark.parametrize("method", ["post", "patch"])
def test_name_taken_between_the_check_and_the_write_is_409(ex, monkeypatch, method):
    # Two admins creating (or renaming to) the same name at once: the second one's
    # check passes before the first commits, and the unique index refuses its row.
    # That must be the same 409 as the check's, not a 500.
    from api.exchange import actions

    ivy = client_for(ex.personas["ivy"])
    ExchangeGroup.objects.create(name="全体区县政府")
    other = ExchangeGroup.objects.create(name="其他")
    monkeypatch.setattr(actions, "_unique_name", lambda name, exclude=None: name.strip())
    if method == "post":
        response = ivy.post(
            "/api/v1/exchange/groups/", {"name": "全体区县政府", "unit_ids": []}, format="json"
        )
    else:
        response = ivy.patch(
            f"/api/v1/exchange/groups/{other.pk}/", {"name": "全体区县政府"}, format="json"
        )
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "group_name_taken"
    assert sorted(ExchangeGroup.objects.values_list("name", flat=True)) == ["全体区县政府", "其他"]
