"""The supervisor API over the audit log (docs/audit.md#supervisor-api): scopes by
role, filters, cursor pagination newest first, 404/403 recorded, read-only."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.audit.models import AuditEvent
from api.audit.recorder import record
from tests.personas import client_for

URL = "/api/v1/audit/events/"


@pytest.fixture
def events(org, personas):
    """One event per place in the tree, plus one with no unit; actions start with t."""
    bob, charlie = personas["bob"], personas["charlie"]
    made = {
        "office": record(
            "t.doc.sign_off",
            actor=bob,
            obj=None,
            unit_id=org.office.pk,
            object_type="documents.document",
            object_id=11,
        ),
        "bureau": record(
            "t.doc.receive",
            actor=charlie,
            unit_id=org.bureau.pk,
            result="failed",
            object_type="documents.document",
            object_id=12,
        ),
        "township": record("t.unit.rename", obj=org.township, actor=personas["dana"]),
        "city": record("t.unit.rename", obj=org.city, actor=personas["ivy"]),
        "nowhere": record("t.network.denied", source_address="203.0.113.9", result="denied"),
    }
    return made


def seqs(response, prefix: str = "t.") -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [e["seq"] for e in response.json()["results"] if e["action"].startswith(prefix)]


def expect(events, *names: str) -> list[int]:
    return sorted((events[n].seq for n in names), reverse=True)


class TestScope:
    @pytest.mark.parametrize("who", ["ivy", "sam"])
    def test_city_wide_readers_see_everything(self, events, personas, who):
        response = client_for(personas[who]).get(URL)
        assert seqs(response) == expect(events, "nowhere", "city", "township", "bureau", "office")

    def test_unit_admin_sees_own_subtree_only(self, events, personas):
        assert seqs(client_for(personas["alice"]).get(URL)) == expect(events, "office")
        assert seqs(client_for(personas["dana"]).get(URL)) == expect(events, "township")

    def test_lower_supervisor_sees_their_subtree(self, events, org):
        from tests.personas import Role, make_user

        district_supervisor = make_user("susan", org.district, Role.SUPERVISOR)
        response = client_for(district_supervisor).get(URL)
        assert seqs(response) == expect(events, "township")

    @pytest.mark.parametrize("who", ["bob", "charlie", "leo"])
    def test_others_are_refused_and_recorded(self, events, personas, who):
        response = client_for(personas[who]).get(URL)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        denial = AuditEvent.objects.filter(action="audit.read").latest("seq")
        assert denial.result == "denied"
        assert denial.actor_username == who
        assert denial.detail == {"method": "GET", "path": URL}

    def test_anonymous_401(self, events):
        response = client_for(None).get(URL)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_unit_filter_cannot_widen_the_scope(self, events, personas, org):
        alice = client_for(personas["alice"])
        assert seqs(alice.get(URL, {"unit": org.bureau.pk})) == []
        assert seqs(alice.get(URL, {"unit": org.city.pk, "subtree": "true"})) == expect(
            events, "office"
        )


class TestFilters:
    @pytest.fixture
    def sam(self, personas):
        return client_for(personas["sam"])

    def test_actor(self, events, sam):
        assert seqs(sam.get(URL, {"actor": "charlie"})) == expect(events, "bureau")
        assert seqs(sam.get(URL, {"actor": "nobody"})) == []

    def test_action_and_prefix(self, events, sam):
        assert seqs(sam.get(URL, {"action": "t.unit.rename"})) == expect(events, "city", "township")
        assert seqs(sam.get(URL, {"action_prefix": "t.doc."})) == expect(events, "bureau", "office")

    def test_object(self, events, sam, org):
        response = sam.get(URL, {"object_type": "documents.document", "object_id": "12"})
        assert seqs(response) == expect(events, "bureau")
        response = sam.get(URL, {"object_type": "accounts.unit", "object_id": org.city.pk})
        assert seqs(response) == expect(events, "city")

    def test_unit_and_subtree(self, events, sam, org):
        assert seqs(sam.get(URL, {"unit": org.district.pk})) == []
        response = sam.get(URL, {"unit": org.district.pk, "subtree": "true"})
        assert seqs(response) == expect(events, "township")
        response = sam.get(URL, {"unit": org.city.pk, "subtree": "true"})
        assert seqs(response) == expect(events, "city", "township", "bureau", "office")
        assert seqs(sam.get(URL, {"unit": 987654, "subtree": "true"})) == []

    def test_result(self, events, sam):
        assert seqs(sam.get(URL, {"result": "failed"})) == expect(events, "bureau")
        assert seqs(sam.get(URL, {"result": "denied"})) == expect(events, "nowhere")

    def test_time_window(self, db, personas, sam):
        now = timezone.now()
        for days in (10, 5, 1):
            with mock.patch(
                "api.audit.recorder.timezone.now", return_value=now - timedelta(days=days)
            ):
                record(f"t.day{days}")
        response = sam.get(
            URL,
            {
                "from": (now - timedelta(days=6)).isoformat(),
                "to": (now - timedelta(days=1)).isoformat(),
            },
        )
        assert [e["action"] for e in response.json()["results"]] == ["t.day5"]

    @pytest.mark.parametrize(
        "params",
        [
            {"unit": "abc"},
            {"unit": "0"},
            {"unit": str(2**70)},
            {"result": "maybe"},
            {"from": "yesterday"},
            {"from": "2026-05-02T00:00:00Z", "to": "2026-05-01T00:00:00Z"},
            {"subtree": "true"},
            {"actor": "x" * 65},
            {"action": "a\x00b"},
        ],
    )
    def test_bad_filters_400(self, events, sam, params):
        response = sam.get(URL, params)
        assert response.status_code == 400, response.content[:300]
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["fields"]

    def test_unknown_parameters_are_ignored(self, events, sam):
        assert len(seqs(sam.get(URL, {"colour": "blue"}))) == 5


class TestPagination:
    def test_newest_first_by_cursor(self, events, personas):
        sam = client_for(personas["sam"])
        page = sam.get(URL, {"page_size": 2, "action_prefix": "t."}).json()
        collected = [e["seq"] for e in page["results"]]
        while page["next"]:
            page = sam.get(page["next"]).json()
            collected += [e["seq"] for e in page["results"]]
        assert collected == expect(events, "nowhere", "city", "township", "bureau", "office")

    def test_forged_cursor_is_404_not_500(self, events, personas):
        import base64

        cursor = base64.b64encode(b"p=abc%00&r=0").decode()
        response = client_for(personas["sam"]).get(URL, {"cursor": cursor})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_event_fields(self, events, personas):
        body = client_for(personas["sam"]).get(URL, {"action": "t.network.denied"}).json()
        [event] = body["results"]
        assert event == {
            "seq": events["nowhere"].seq,
            "occurred_at": event["occurred_at"],
            "actor_id": None,
            "actor_username": "",
            "on_behalf_of_id": None,
            "on_behalf_of_username": "",
            "action": "t.network.denied",
            "object_type": "",
            "object_id": "",
            "unit_id": None,
            "source_address": "203.0.113.9",
            "result": "denied",
            "detail": {},
            "prev_hash": events["nowhere"].prev_hash,
            "hash": events["nowhere"].hash,
        }

    def test_query_count_does_not_grow_with_rows(self, events, personas, org):
        for who in ("sam", "alice"):
            api = client_for(personas[who])
            params = {"unit": org.city.pk, "subtree": "true", "action_prefix": "t."}
            with CaptureQueriesContext(connection) as few:
                assert api.get(URL, params).status_code == 200
            for index in range(25):
                record("t.more", unit_id=org.office.pk, detail={"i": index})
            with CaptureQueriesContext(connection) as many:
                response = api.get(URL, params)
            assert len(response.json()["results"]) >= 25
            assert len(many) == len(few), (who, [q["sql"] for q in many.captured_queries])

    def test_query_budget(self, events, personas, django_assert_max_num_queries):
        api = client_for(personas["alice"])
        with django_assert_max_num_queries(6):
            params = {"unit": personas["alice"].unit_id, "subtree": "true"}
            assert api.get(URL, params).status_code == 200


class TestOneEvent:
    def test_reader_gets_an_event(self, events, personas):
        seq = events["office"].seq
        response = client_for(personas["alice"]).get(f"{URL}{seq}/")
        assert response.status_code == 200
        assert response.json()["seq"] == seq and response.json()["hash"] == events["office"].hash

    def test_outside_scope_is_404_and_recorded(self, events, personas):
        seq = events["bureau"].seq
        response = client_for(personas["alice"]).get(f"{URL}{seq}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        denial = AuditEvent.objects.filter(action="audit.read").latest("seq")
        assert (denial.result, denial.actor_username) == ("denied", "alice")
        assert (denial.object_type, denial.object_id) == ("audit.auditevent", str(seq))

    def test_missing_is_404_and_not_recorded(self, events, personas):
        for seq in (99999, 2**63, 2**70):
            response = client_for(personas["sam"]).get(f"{URL}{seq}/")
            assert response.status_code == 404
        assert not AuditEvent.objects.filter(action="audit.read").exists()

    def test_non_reader_403(self, events, personas):
        response = client_for(personas["bob"]).get(f"{URL}{events['office'].seq}/")
        assert response.status_code == 403


class TestReadOnly:
    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_writes_are_405(self, events, personas, method):
        api = client_for(personas["sam"])
        seq = events["office"].seq
        for url in (URL, f"{URL}{seq}/"):
            response = getattr(api, method)(url, data={}, format="json")
            assert response.status_code == 405, (method, url)
            assert response.json()["error"]["code"] == "method_not_allowed"
        assert AuditEvent.objects.get(seq=seq).action == "t.doc.sign_off"


def test_schema_documents_the_filters(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/audit/events/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {
        "actor",
        "action",
        "action_prefix",
        "object_type",
        "object_id",
        "unit",
        "subtree",
        "result",
        "from",
        "to",
        "cursor",
        "page_size",
    } <= names
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
    assert "/api/v1/audit/events/{seq}/" in schema["paths"]
