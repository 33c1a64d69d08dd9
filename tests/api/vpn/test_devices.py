"""Requesting, approving, fetching the config once and revoking VPN access
(docs/vpn.md#enrolling-a-phone, docs/vpn.md#lost-phone)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from api.audit.models import AuditEvent
from api.vpn.models import VpnDevice
from tests.api.vpn.helpers import approve, enrolled, request_device
from tests.personas import client_for
from vpn_gateway.keys import generate_key_pair, public_key_of

pytestmark = pytest.mark.django_db


def post(user, path, body=None):
    return client_for(user).post(path, body or {}, format="json")


def code(response) -> str:
    return response.json()["error"]["code"]


class TestRequest:
    def test_device_key_request_is_pending_and_audited(self, personas):
        _private, public = generate_key_pair()
        device = request_device(personas["bob"], public_key=public)
        assert device["status"] == "pending" and device["key_origin"] == "device"
        assert device["public_key"] == public and device["address"] is None
        event = AuditEvent.objects.get(action="vpn.requested")
        assert event.actor_id == personas["bob"].pk and event.object_id == str(device["id"])

    def test_server_key_request_has_no_key_yet(self, personas):
        device = request_device(personas["bob"])
        assert device["key_origin"] == "server" and device["public_key"] == ""

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "x", "public_key": "not-a-key"},
            {"name": "x", "public_key": "A" * 44},
            {"name": "x", "expires_on": "2000-01-01"},
            {"name": ""},
        ],
    )
    def test_bad_input_is_400(self, personas, body):
        response = post(personas["bob"], "/api/v1/vpn/devices/", body)
        assert response.status_code == 400 and code(response) == "validation_error"

    def test_expiry_beyond_the_maximum_is_400(self, personas, settings):
        late = timezone.localdate() + timedelta(days=settings.GOVDESK_VPN_MAX_DAYS + 1)
        response = post(
            personas["bob"], "/api/v1/vpn/devices/", {"name": "x", "expires_on": str(late)}
        )
        assert response.status_code == 400

    def test_unknown_field_is_400(self, personas):
        response = post(personas["bob"], "/api/v1/vpn/devices/", {"name": "x", "private_key": "y"})
        assert response.status_code == 400 and code(response) == "unknown_field"

    def test_a_key_is_enrolled_once(self, personas):
        _private, public = generate_key_pair()
        request_device(personas["bob"], public_key=public)
        response = post(
            personas["leo"], "/api/v1/vpn/devices/", {"name": "x", "public_key": public}
        )
        assert response.status_code == 409 and code(response) == "vpn_key_in_use"


class TestApproval:
    def test_unit_admin_approves_and_an_address_is_allocated(self, personas):
        device = request_device(personas["bob"])
        approved = approve(personas["alice"], device["id"])
        assert approved["status"] == "approved"
        assert approved["address"] == "10.99.0.2"  # .0 network, .1 gateway
        assert approved["approved_by"]["id"] == personas["alice"].pk
        assert AuditEvent.objects.filter(action="vpn.approved", result="success").count() == 1

    def test_city_it_admin_approves_any_unit(self, personas):
        device = request_device(personas["charlie"])
        assert approve(personas["ivy"], device["id"])["status"] == "approved"

    def test_addresses_are_distinct(self, personas):
        a = enrolled(personas["bob"], personas["alice"])
        b = enrolled(personas["leo"], personas["alice"])
        assert {a["address"], b["address"]} == {"10.99.0.2", "10.99.0.3"}

    def test_another_units_admin_gets_404_and_it_is_audited(self, personas):
        device = request_device(personas["bob"])
        response = post(personas["dana"], f"/api/v1/vpn/devices/{device['id']}/approve/")
        assert response.status_code == 404
        denied = AuditEvent.objects.get(action="vpn.approve", result="denied")
        assert denied.actor_id == personas["dana"].pk

    def test_owner_without_admin_role_gets_403(self, personas):
        device = request_device(personas["bob"])
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/approve/")
        assert response.status_code == 403 and code(response) == "permission_denied"

    def test_admin_cannot_approve_own_device(self, personas):
        device = request_device(personas["alice"])
        response = post(personas["alice"], f"/api/v1/vpn/devices/{device['id']}/approve/")
        assert response.status_code == 403 and code(response) == "self_approval"
        assert approve(personas["ivy"], device["id"])["status"] == "approved"

    def test_approving_twice_is_409(self, personas):
        device = enrolled(personas["bob"], personas["alice"])
        response = post(personas["ivy"], f"/api/v1/vpn/devices/{device['id']}/approve/")
        assert response.status_code == 409 and code(response) == "vpn_not_pending"

    def test_approver_may_shorten_but_not_lengthen(self, personas):
        device = request_device(personas["bob"])
        soon = timezone.localdate() + timedelta(days=7)
        approved = approve(personas["alice"], device["id"], expires_on=str(soon))
        assert approved["expires_on"] == soon.isoformat()

    def test_quarantined_address_is_not_reused(self, personas, settings):
        first = enrolled(personas["bob"], personas["alice"])
        post(personas["bob"], f"/api/v1/vpn/devices/{first['id']}/revoke/", {"reason": "丢失"})
        second = enrolled(personas["leo"], personas["alice"])
        assert second["address"] == "10.99.0.3"
        settings.GOVDESK_VPN_QUARANTINE_DAYS = 0
        VpnDevice.objects.filter(pk=first["id"]).update(
            revoked_at=timezone.now() - timedelta(seconds=5)
        )
        third = enrolled(personas["charlie"], personas["ivy"])
        assert third["address"] == "10.99.0.2"

    def test_exhausted_pool_is_409(self, personas, settings):
        settings.GOVDESK_VPN_POOL = "10.99.0.0/30"  # one assignable address: .2
        enrolled(personas["bob"], personas["alice"])
        device = request_device(personas["leo"])
        response = post(personas["alice"], f"/api/v1/vpn/devices/{device['id']}/approve/")
        assert response.status_code == 409 and code(response) == "vpn_pool_exhausted"


class TestConfigOnce:
    def test_server_made_key_is_returned_once_and_never_stored(self, personas, vpn_settings):
        device = enrolled(personas["bob"], personas["alice"])
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/")
        assert response.status_code == 200, response.content
        assert response["Cache-Control"] == "no-store"
        body = response.json()
        assert body["private_key_included"] is True
        config = body["config"]
        private = next(
            line.split(" = ", 1)[1] for line in config.splitlines() if line.startswith("PrivateKey")
        )
        stored = VpnDevice.objects.get(pk=device["id"])
        assert stored.public_key == public_key_of(private)
        row = VpnDevice.objects.filter(pk=device["id"]).values()[0]
        assert private not in str(row)
        assert f"PublicKey = {vpn_settings.GOVDESK_VPN_SERVER_PUBLIC_KEY}" in config
        assert (
            "Address = 10.99.0.2/32" in config and "Endpoint = vpn.example.gov.cn:51820" in config
        )
        assert private not in str(list(AuditEvent.objects.values("detail")))

        again = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/")
        assert again.status_code == 410 and code(again) == "vpn_config_already_fetched"
        assert AuditEvent.objects.filter(action="vpn.config_fetch", result="denied").exists()

    def test_qr_code_decodes_to_the_config(self, personas):
        zxingcpp = pytest.importorskip("zxingcpp", reason="needs zxing-cpp to decode QR codes")
        from base64 import b64decode

        from PIL import Image

        device = enrolled(personas["bob"], personas["alice"])
        body = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/").json()
        assert body["qr_png"].startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(b64decode(body["qr_png"].split(",", 1)[1])))
        decoded = zxingcpp.read_barcodes(image)
        assert [result.text for result in decoded] == [body["config"]]

    def test_device_made_key_config_has_no_private_key(self, personas):
        _private, public = generate_key_pair()
        device = enrolled(personas["bob"], personas["alice"], public_key=public)
        body = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/").json()
        assert body["private_key_included"] is False
        assert "PrivateKey" not in body["config"]
        assert VpnDevice.objects.get(pk=device["id"]).public_key == public

    def test_only_the_owner_fetches(self, personas):
        device = enrolled(personas["bob"], personas["alice"])
        assert (
            post(personas["alice"], f"/api/v1/vpn/devices/{device['id']}/config/").status_code
            == 403
        )
        assert (
            post(personas["charlie"], f"/api/v1/vpn/devices/{device['id']}/config/").status_code
            == 404
        )
        assert (
            post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/").status_code == 200
        )

    def test_pending_revoked_and_unconfigured(self, personas, settings):
        device = request_device(personas["bob"])
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/")
        assert response.status_code == 409 and code(response) == "vpn_not_approved"
        approve(personas["alice"], device["id"])
        settings.GOVDESK_VPN_ENDPOINT = ""
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/")
        assert response.status_code == 409 and code(response) == "vpn_not_configured"
        settings.GOVDESK_VPN_ENDPOINT = "vpn.example.gov.cn:51820"
        post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/revoke/")
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/")
        assert response.status_code == 409 and code(response) == "vpn_already_revoked"

    def test_expired_access_is_409(self, personas):
        device = enrolled(personas["bob"], personas["alice"])
        VpnDevice.objects.filter(pk=device["id"]).update(
            expires_on=timezone.localdate() - timedelta(days=1)
        )
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/config/")
        assert response.status_code == 409 and code(response) == "vpn_expired"


class TestRevoke:
    @pytest.mark.parametrize("who", ["bob", "alice", "ivy"])
    def test_owner_unit_admin_or_it_admin_revokes(self, personas, who):
        device = enrolled(personas["bob"], personas["alice"])
        response = post(
            personas[who], f"/api/v1/vpn/devices/{device['id']}/revoke/", {"reason": "手机丢失"}
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "revoked"
        event = AuditEvent.objects.get(action="vpn.revoked")
        assert event.actor_id == personas[who].pk and event.detail["reason"] == "手机丢失"

    def test_others_cannot(self, personas):
        device = enrolled(personas["bob"], personas["alice"])
        assert (
            post(personas["charlie"], f"/api/v1/vpn/devices/{device['id']}/revoke/").status_code
            == 404
        )
        assert (
            post(personas["dana"], f"/api/v1/vpn/devices/{device['id']}/revoke/").status_code == 404
        )
        # A supervisor sees the device but may not revoke it.
        assert (
            post(personas["sam"], f"/api/v1/vpn/devices/{device['id']}/revoke/").status_code == 403
        )
        assert AuditEvent.objects.filter(action="vpn.revoke", result="denied").count() == 3

    def test_revoking_twice_is_409(self, personas):
        device = enrolled(personas["bob"], personas["alice"])
        post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/revoke/")
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/revoke/")
        assert response.status_code == 409 and code(response) == "vpn_already_revoked"

    def test_pending_request_can_be_withdrawn(self, personas):
        device = request_device(personas["bob"])
        response = post(personas["bob"], f"/api/v1/vpn/devices/{device['id']}/revoke/")
        assert response.status_code == 200 and response.json()["address"] is None


class TestLists:
    def test_visibility(self, personas):
        bobs = enrolled(personas["bob"], personas["alice"])
        charlies = request_device(personas["charlie"])

        def ids(user, query=""):
            response = client_for(user).get("/api/v1/vpn/devices/" + query)
            assert response.status_code == 200
            return {d["id"] for d in response.json()["results"]}

        assert ids(personas["bob"]) == {bobs["id"]}
        assert ids(personas["alice"]) == {bobs["id"]}  # her unit; not the bureau's
        assert ids(personas["ivy"]) == {bobs["id"], charlies["id"]}
        assert ids(personas["sam"]) == {bobs["id"], charlies["id"]}  # city supervisor
        assert ids(personas["charlie"]) == {charlies["id"]}
        assert ids(personas["dana"]) == set()
        assert ids(personas["ivy"], "?status=pending") == {charlies["id"]}
        assert ids(personas["alice"], "?mine=true") == set()
        assert client_for(personas["bob"]).get("/api/v1/vpn/devices/?status=x").status_code == 400

    def test_detail_visibility(self, personas):
        device = request_device(personas["bob"])
        path = f"/api/v1/vpn/devices/{device['id']}/"
        assert client_for(personas["bob"]).get(path).status_code == 200
        assert client_for(personas["alice"]).get(path).status_code == 200
        assert client_for(personas["charlie"]).get(path).status_code == 404
        assert client_for(personas["dana"]).get(path).status_code == 404

    def test_device_list_query_count_does_not_grow(self, personas, django_assert_max_num_queries):
        from tests.personas import make_user

        client = client_for(personas["ivy"])
        for index in range(3):
            enrolled(make_user(f"u{index}", personas["bob"].unit), personas["alice"])
        # Authentication (session + user), roles, the page: the same for 3 rows or 15.
        with django_assert_max_num_queries(6):
            assert len(client.get("/api/v1/vpn/devices/").json()["results"]) == 3
        for index in range(3, 15):
            enrolled(make_user(f"u{index}", personas["bob"].unit), personas["alice"])
        with django_assert_max_num_queries(6):
            assert len(client.get("/api/v1/vpn/devices/").json()["results"]) == 15
