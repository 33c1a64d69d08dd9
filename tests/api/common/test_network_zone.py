"""NetworkZoneMiddleware and BodySizeLimitMiddleware through the Django test client
(docs/network-zones.md, docs/api.md#errors).

The test client's peer is REMOTE_ADDR (127.0.0.1 unless a test says otherwise); the
test settings keep the demo default: loopback allowed, no trusted proxies.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client, override_settings

from api.audit.models import AuditEvent

UNROUTED = "/api/v1/zone-probe-not-a-route/"  # passes the zone check, then 404s
PROXY_SETTINGS = {
    "GOVDESK_ALLOWED_NETWORKS": ["10.0.0.0/8", "fd00:abcd::/32"],
    "GOVDESK_TRUSTED_PROXIES": ["127.0.0.1/32", "192.168.100.0/24"],
}


def assert_refused(response) -> None:
    assert response.status_code == 403, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "network_not_allowed"
    assert error["message"]


def denials() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="network.denied").order_by("seq"))


@pytest.mark.django_db
class TestDemoDefault:
    def test_loopback_allowed(self, client):
        assert client.get("/api/v1/health/").status_code == 200
        assert client.get(UNROUTED, REMOTE_ADDR="::1").status_code == 404
        assert client.get(UNROUTED, REMOTE_ADDR="::ffff:127.0.0.1").status_code == 404
        assert denials() == []

    def test_outside_peer_refused_and_audited(self, client):
        response = client.get("/api/v1/health/", REMOTE_ADDR="10.20.30.40")
        assert_refused(response)
        [event] = denials()
        assert event.result == "denied"
        assert event.source_address == "10.20.30.40"
        assert event.detail["reason"] == "outside_allowed_networks"
        assert event.detail["path"] == "/api/v1/health/"
        assert event.detail["method"] == "GET"

    def test_untrusted_peer_cannot_spoof_an_allowed_address(self, client):
        """The Done-when line: a spoofed X-Forwarded-For of an allowed address from an
        untrusted peer is refused, and the record names the real peer."""
        for spoof in ("127.0.0.1", "127.0.0.1, ::1", "::1", "unknown, 127.0.0.1"):
            response = client.get(
                "/api/v1/health/", REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR=spoof
            )
            assert_refused(response)
        events = denials()
        assert len(events) == 4
        assert {e.source_address for e in events} == {"203.0.113.50"}
        assert events[0].detail["forwarded_for"] == "127.0.0.1"
        assert events[0].detail["peer"] == "203.0.113.50"

    def test_refusal_in_english(self, client):
        response = client.get(UNROUTED, REMOTE_ADDR="203.0.113.50", HTTP_ACCEPT_LANGUAGE="en")
        assert_refused(response)
        assert "intranet" in response.json()["error"]["message"]

    def test_refused_before_authentication_and_any_write(self, client):
        response = client.post(
            "/api/v1/auth/token/",
            data={"username": "nobody", "password": "x"},
            content_type="application/json",
            REMOTE_ADDR="203.0.113.50",
        )
        assert_refused(response)
        assert [e.action for e in AuditEvent.objects.all()] == ["network.denied"]

    def test_refused_even_when_the_record_cannot_be_written(self, client):
        with mock.patch("api.audit.recorder.record_denied", side_effect=RuntimeError("db down")):
            assert_refused(client.get(UNROUTED, REMOTE_ADDR="203.0.113.50"))


@pytest.mark.django_db
class TestBehindTrustedProxies:
    @pytest.fixture(autouse=True)
    def _behind_proxies(self):
        with override_settings(**PROXY_SETTINGS):
            yield

    def test_proxy_forwarding_allowed_client(self, client):
        response = client.get(UNROUTED, HTTP_X_FORWARDED_FOR="10.1.2.3")
        assert response.status_code == 404
        assert denials() == []

    def test_audit_source_address_is_the_forwarded_client(self, personas):
        from tests.personas import client_for

        api = client_for(personas["bob"])  # a clerk: reading the audit log is refused
        response = api.get(
            "/api/v1/audit/events/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3"
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        event = AuditEvent.objects.get(action="audit.read")
        assert event.source_address == "10.1.2.3"
        assert event.actor_username == "bob"

    def test_proxy_forwarding_outside_client(self, client):
        response = client.get(UNROUTED, HTTP_X_FORWARDED_FOR="198.51.100.4")
        assert_refused(response)
        [event] = denials()
        assert event.source_address == "198.51.100.4"
        assert event.detail["peer"] == "127.0.0.1"

    def test_client_spoofing_through_the_proxy(self, client):
        # The client sent "X-Forwarded-For: 10.9.9.9"; nginx appended its real address.
        response = client.get(UNROUTED, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")
        assert_refused(response)
        assert denials()[0].source_address == "198.51.100.4"

    def test_chained_proxies(self, client):
        response = client.get(
            UNROUTED,
            REMOTE_ADDR="192.168.100.7",
            HTTP_X_FORWARDED_FOR="198.51.100.4, fd00:abcd::77, 192.168.100.8, 127.0.0.1",
        )
        assert response.status_code == 404
        response = client.get(
            UNROUTED,
            REMOTE_ADDR="192.168.100.7",
            HTTP_X_FORWARDED_FOR="10.1.1.1, 198.51.100.4, 192.168.100.8",
        )
        assert_refused(response)
        assert denials()[0].source_address == "198.51.100.4"

    def test_garbage_from_a_trusted_proxy_is_refused(self, client):
        assert_refused(client.get(UNROUTED, HTTP_X_FORWARDED_FOR="10.1.1.1, unknown"))
        [event] = denials()
        assert event.source_address is None
        assert event.detail["reason"] == "forwarded_for_unparseable"

    def test_proxy_itself_outside_allowed_networks(self, client):
        # Loopback is trusted as a proxy here but not an allowed client.
        assert_refused(client.get(UNROUTED))

    def test_untrusted_intranet_peer_xff_ignored(self, client):
        response = client.get(UNROUTED, REMOTE_ADDR="10.5.5.5", HTTP_X_FORWARDED_FOR="198.51.100.4")
        assert response.status_code == 404


@pytest.mark.django_db
def test_settings_are_reread_on_each_request(settings):
    client = Client()
    assert client.get(UNROUTED, REMOTE_ADDR="10.1.1.1").status_code == 403
    with override_settings(GOVDESK_ALLOWED_NETWORKS=["10.0.0.0/8"]):
        assert client.get(UNROUTED, REMOTE_ADDR="10.1.1.1").status_code == 404
        assert client.get(UNROUTED).status_code == 403
    settings.GOVDESK_ALLOWED_NETWORKS = ["10.1.1.1/32"]
    assert client.get(UNROUTED, REMOTE_ADDR="10.1.1.1").status_code == 404
    assert client.get(UNROUTED, REMOTE_ADDR="10.1.1.2").status_code == 403


@pytest.mark.django_db
class TestBodySize:
    def test_oversized_body_413_before_reading(self, client, settings):
        body = "{}".ljust(settings.GOVDESK_MAX_BODY_BYTES + 1)
        response = client.post(UNROUTED, data=body, content_type="application/json")
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"

    def test_declared_length_over_the_limit_413(self, client, settings):
        response = client.post(
            UNROUTED,
            data="{}",
            content_type="application/json",
            CONTENT_LENGTH=str(settings.GOVDESK_MAX_BODY_BYTES + 1),
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"

    def test_body_at_the_limit_passes(self, client, settings):
        body = "{}".ljust(settings.GOVDESK_MAX_BODY_BYTES)
        response = client.post(UNROUTED, data=body, content_type="application/json")
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "length", ["abc", "-1", "1,1", "1e3", " 2", "0x10", "９", "9" * 19, "+2"]
    )
    def test_bad_content_length_400(self, client, length):
        response = client.post(
            UNROUTED, data="{}", content_type="application/json", CONTENT_LENGTH=length
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "bad_request"
        assert error["message"]

    def test_zone_check_comes_first(self, client, settings):
        response = client.post(
            UNROUTED,
            data="{}",
            content_type="application/json",
            CONTENT_LENGTH="abc",
            REMOTE_ADDR="203.0.113.50",
        )
        assert_refused(response)
