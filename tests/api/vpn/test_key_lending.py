"""A request from a VPN address is attributed to its device and owner; a token of
anyone else from that address is refused and audited (docs/vpn.md#key-lending)."""

from __future__ import annotations

import pytest

from api.audit.models import AuditEvent
from tests.api.vpn.helpers import enrolled
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def whoami(user, address):
    return client_for(user).get("/api/v1/vpn/whoami/", REMOTE_ADDR=address)


def test_owner_is_attributed_to_the_device(personas):
    device = enrolled(personas["bob"], personas["alice"])
    response = whoami(personas["bob"], device["address"])
    assert response.status_code == 200, response.content
    assert response.json() == {
        "client_address": device["address"],
        "via_vpn": True,
        "device_id": device["id"],
        "user_id": personas["bob"].pk,
    }


def test_intranet_request_is_not_via_vpn(personas):
    response = whoami(personas["bob"], "127.0.0.1")
    assert response.json()["via_vpn"] is False and response.json()["device_id"] is None


def test_someone_elses_token_from_the_device_is_refused_and_audited(personas):
    device = enrolled(personas["bob"], personas["alice"])
    response = whoami(personas["charlie"], device["address"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "vpn_peer_mismatch"
    event = AuditEvent.objects.get(action="vpn.peer_mismatch")
    assert event.result == "denied" and event.actor_id == personas["charlie"].pk
    assert event.source_address == device["address"]
    assert event.detail["device_owner_id"] == personas["bob"].pk
    assert event.detail["device_id"] == device["id"]
    # Every endpoint, not only whoami.
    other = client_for(personas["charlie"]).get(
        "/api/v1/vpn/devices/", REMOTE_ADDR=device["address"]
    )
    assert other.status_code == 403


def test_address_without_a_live_device_is_refused(personas):
    response = whoami(personas["bob"], "10.99.0.77")
    assert response.status_code == 403 and response.json()["error"]["code"] == "vpn_peer_unknown"
    event = AuditEvent.objects.get(action="network.denied")
    assert event.detail["reason"] == "vpn_peer_unknown"


def test_revocation_is_refused_at_once_before_any_agent_sync(personas):
    device = enrolled(personas["bob"], personas["alice"])
    assert whoami(personas["bob"], device["address"]).status_code == 200  # now cached
    client_for(personas["bob"]).post(f"/api/v1/vpn/devices/{device['id']}/revoke/")
    response = whoami(personas["bob"], device["address"])
    assert response.status_code == 403 and response.json()["error"]["code"] == "vpn_peer_unknown"


def test_anonymous_from_a_device_gets_401_not_a_leak(personas):
    device = enrolled(personas["bob"], personas["alice"])
    assert (
        client_for(None).get("/api/v1/vpn/whoami/", REMOTE_ADDR=device["address"]).status_code
        == 401
    )


def test_the_lookup_is_cached_and_actions_clear_it(personas, settings):
    from api.vpn.models import VpnDevice

    device = enrolled(personas["bob"], personas["alice"])
    client = client_for(personas["bob"])
    assert client.get("/api/v1/vpn/whoami/", REMOTE_ADDR=device["address"]).status_code == 200
    # A change behind the actions' back is not seen while the entry lives: the
    # lookup was served from the cache, not the table.
    VpnDevice.objects.filter(pk=device["id"]).update(status="revoked")
    assert client.get("/api/v1/vpn/whoami/", REMOTE_ADDR=device["address"]).status_code == 200
    settings.GOVDESK_VPN_PEER_CACHE_SECONDS = 0
    assert client.get("/api/v1/vpn/whoami/", REMOTE_ADDR=device["address"]).status_code == 403
