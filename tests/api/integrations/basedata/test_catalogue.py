"""Catalogue entries applied (ordered by version, checked whole), the load command,
masking rules and the demo seed. Docs: docs/integrations.md#base-data."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import CommandError, call_command

from api.accounts.models import User
from api.integrations.basedata.catalogue import InvalidEntry, apply_entry, source_id_of
from api.integrations.basedata.masking import mask_parameters, mask_value, shape_rows
from api.integrations.basedata.models import Dataset
from cityfakes.basedata import catalogue, id_check_digit, people
from tests.api.integrations.basedata.conftest import POPULATION, owners


def entry(org, index: int = 0) -> dict:
    return copy.deepcopy(catalogue(owners(org))[index])


@pytest.mark.django_db
def test_entries_apply_in_version_order(org):
    first = entry(org)
    dataset = apply_entry(first)
    assert (dataset.source_id, dataset.version, dataset.owner_unit) == (POPULATION, 1, org.office)
    assert source_id_of(first) == f"{POPULATION}@1"
    newer = {**first, "version": 3, "name": "常住人口", "owner_unit_code": org.bureau.code}
    apply_entry(newer)
    late = {**first, "version": 2, "name": "旧名称"}
    apply_entry(late)  # older than the stored version: changes nothing
    apply_entry(newer)  # a replay: changes nothing
    dataset.refresh_from_db()
    assert (dataset.name, dataset.version, dataset.owner_unit) == ("常住人口", 3, org.bureau)
    retired = {**newer, "version": 4, "status": "retired"}
    assert apply_entry(retired).active is False
    assert Dataset.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"version": 0},
        {"version": "2"},
        {"database": "weather"},
        {"owner_unit_code": "NOPE"},
        {"fields": []},
        {"fields": [{"name": "x", "kind": "dna"}]},
        {"fields": [{"name": "Bad Name"}]},
        {"fields": [{"name": "a"}, {"name": "a"}]},
        {"parameters": [{"name": "p", "type": "float"}]},
        {"name": ""},
        {"status": "deleted"},
    ],
)
def test_invalid_entries_change_nothing(org, change):
    with pytest.raises(InvalidEntry):
        apply_entry({**entry(org), **change})
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_load_command_applies_a_file(org, tmp_path):
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(catalogue(owners(org))), "utf-8")
    call_command("basedata_load_catalogue", str(path))
    call_command("basedata_load_catalogue", str(path))  # again: nothing changes
    assert Dataset.objects.count() == 4
    path.write_text(json.dumps([{"id": "x"}]), "utf-8")
    with pytest.raises(CommandError, match="entry 0"):
        call_command("basedata_load_catalogue", str(path))


def test_masking_patterns():
    assert mask_value("id_number", "110101199003071234") == "110***********1234"
    assert mask_value("id_number", "11010119900307123X") == "110***********123X"
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("phone", 13812345678) == "138****5678"
    assert mask_value("name", "张三丰") == "张**"
    assert mask_value("name", "李") == "*"
    assert mask_value("address", "新城市渝城区胜利北路12号") == "新城市渝城区****"
    assert mask_value("email", "zhang@example.cn") == "z***@example.cn"
    assert mask_value("phone", "1234") == "****"  # too short: all stars
    assert mask_value("text", "13812345678") == "13812345678"
    assert mask_value("id_number", None) is None


def test_rows_keep_only_catalogue_fields():
    fields = [{"name": "phone", "kind": "phone"}, {"name": "city", "kind": "text"}]
    rows = [{"phone": "13812345678", "city": "新城", "secret_note": "x"}]
    assert shape_rows(rows, fields, masked=True) == [{"phone": "138****5678", "city": "新城"}]
    assert shape_rows(rows, fields, masked=False) == [{"phone": "13812345678", "city": "新城"}]
    declared = [{"name": "id_number", "kind": "id_number"}, {"name": "year", "kind": ""}]
    assert mask_parameters({"id_number": "110101199003071234", "year": 2026}, declared) == {
        "id_number": "110***********1234",
        "year": 2026,
    }


def test_fake_people_have_valid_id_numbers():
    rows = people(20)
    for row in rows:
        number = row["id_number"]
        assert len(number) == 18 and id_check_digit(number[:17]) == number[17]
        assert len(row["phone"]) == 11 and row["phone"].startswith("1")
    assert rows == people(20)  # deterministic


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_the_demo_clerk_queries_masked(monkeypatch):
    from api.integrations.basedata import demo
    from api.integrations.testing import configure, run_fake
    from cityfakes.basedata import BaseDataFake
    from tests.personas import client_for, make_unit, make_user

    city = make_unit("新城市人民政府", "city", code="XC")
    office = make_unit("新城市人民政府办公室", "office", city, code="XC-OFF")
    fgw = make_unit("新城市发展和改革委员会", "bureau", city, code="XC-FGW")
    make_user("clerk", office, "clerk")
    make_user("office_staff", office, "staff")
    make_user("b_admin", fgw, "unit_admin")
    first = demo.seed()
    assert first == {"basedata_datasets_created": 2, "basedata_requests_created": 2}
    assert demo.seed() == {"basedata_datasets_created": 0, "basedata_requests_created": 0}
    clerk = User.objects.get(username="clerk")
    dataset = Dataset.objects.get(source_id=demo.GRANTED)
    with run_fake(lambda: BaseDataFake("demo-secret")) as url:
        configure(monkeypatch, "basedata", url, "demo-secret")
        client = client_for(clerk)
        client.default_format = "json"
        response = client.post(f"/api/v1/integrations/basedata/datasets/{dataset.pk}/query/", {})
    assert response.status_code == 200, response.content
    row = response.json()["rows"][0]
    assert row["representative_id_number"][3:14] == "*" * 11
    assert row["contact_phone"][3:7] == "****"
