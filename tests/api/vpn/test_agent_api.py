"""The gateway agent's endpoints and credentials, and who is connected
(docs/vpn.md#the-gateway-agent, docs/vpn.md#who-is-connected)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.audit.models import AuditEvent
from api.vpn.models import GatewayAgent, VpnDevice
from tests.api.vpn.helpers import enrolled, issue_agent, request_device
from tests.personas import client_for
from vpn_gateway import peerlist
from vpn_gateway.keys import generate_key_pair

pytestmark = pytest.mark.django_db


def agent_client(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Agent {credential}")
    return client


def keyed_device(owner, approver) -> tuple[dict, str]:
    _private, public = generate_key_pair()
    return enrolled(owner, approver, public_key=public), public


class TestCredentials:
    def test_only_city_it_admin_issues_lists_and_revokes(self, personas):
        credential = issue_agent(personas["ivy"])
        assert credential.startswith("gda_")
        agent = GatewayAgent.objects.get()
        assert agent.credential_sha256 == peerlist.credential_hash(credential)
        assert credential not in json.dumps(list(GatewayAgent.objects.values()), default=str)
        assert credential not in json.dumps(list(AuditEvent.objects.values("detail")))
        listed = client_for(personas["ivy"]).get("/api/v1/vpn/agents/").json()["results"]
        assert [a["name"] for a in listed] == ["gw1"] and "credential" not in listed[0]
        for who in ("alice", "sam", "bob"):
            assert client_for(personas[who]).get("/api/v1/vpn/agents/").status_code == 403
            response = client_for(personas[who]).post(
                "/api/v1/vpn/agents/", {"name": "x"}, format="json"
            )
            assert response.status_code == 403
        revoke = client_for(personas["ivy"]).post(f"/api/v1/vpn/agents/{agent.pk}/revoke/")
        assert revoke.status_code == 200 and revoke.json()["revoked_at"]
        again = client_for(personas["ivy"]).post(f"/api/v1/vpn/agents/{agent.pk}/revoke/")
        assert again.status_code == 409

    def test_issued_credential_is_not_kept_in_the_idempotency_store(self, personas):
        # The idempotency layer stores the first response to replay it; a credential
        # in there would sit in the database in plaintext until the record is pruned.
        from api.common.models import IdempotencyRecord

        client = client_for(personas["ivy"])
        headers = {"HTTP_IDEMPOTENCY_KEY": "agent-issue-0001"}
        first = client.post("/api/v1/vpn/agents/", {"name": "gw1"}, format="json", **headers)
        assert first.status_code == 201 and first["Cache-Control"] == "no-store"
        stored = list(IdempotencyRecord.objects.filter(user=personas["ivy"]).values("key", "body"))
        assert first.json()["credential"] not in json.dumps(stored, default=str)
        again = client.post("/api/v1/vpn/agents/", {"name": "gw1"}, format="json", **headers)
        assert again.status_code == 201 and again.get("Idempotent-Replayed") is None
        assert again.json()["credential"] != first.json()["credential"]

    def test_agent_list_query_count_does_not_grow(self, personas, django_assert_max_num_queries):
        client = client_for(personas["ivy"])
        for index in range(2):
            issue_agent(personas["ivy"], f"gw{index}")
        with django_assert_max_num_queries(4):
            assert len(client.get("/api/v1/vpn/agents/").json()["results"]) == 2
        for index in range(2, 14):
            issue_agent(personas["ivy"], f"gw{index}")
        with django_assert_max_num_queries(4):
            assert len(client.get("/api/v1/vpn/agents/").json()["results"]) == 14

    def test_missing_unknown_and_revoked_credentials_are_401(self, personas):
        credential = issue_agent(personas["ivy"])
        assert APIClient().get("/api/v1/vpn/agent/peers/").status_code == 401
        wrong = agent_client("gda_" + "x" * 43).get("/api/v1/vpn/agent/peers/")
        assert (
            wrong.status_code == 401 and wrong.json()["error"]["code"] == "agent_credential_invalid"
        )
        # A user's JWT is not an agent credential.
        assert client_for(personas["ivy"]).get("/api/v1/vpn/agent/peers/").status_code == 401
        assert agent_client(credential).get("/api/v1/vpn/agent/peers/").status_code == 200
        GatewayAgent.objects.update(revoked_at=timezone.now())
        assert agent_client(credential).get("/api/v1/vpn/agent/peers/").status_code == 401
        denied = AuditEvent.objects.filter(action="vpn.agent_denied", result="denied")
        assert denied.count() == 2
        assert credential not in json.dumps(list(denied.values("detail")))


class TestPeerList:
    def test_signed_list_of_live_peers_only(self, personas):
        credential = issue_agent(personas["ivy"])
        live, live_key = keyed_device(personas["bob"], personas["alice"])
        expired, _ = keyed_device(personas["leo"], personas["alice"])
        VpnDevice.objects.filter(pk=expired["id"]).update(
            expires_on=timezone.localdate() - timedelta(days=1)
        )
        revoked, _ = keyed_device(personas["charlie"], personas["ivy"])
        client_for(personas["charlie"]).post(f"/api/v1/vpn/devices/{revoked['id']}/revoke/")
        request_device(personas["alice"])  # pending: not a peer
        server_made = enrolled(personas["dana"], personas["ivy"])  # no key until fetched

        response = agent_client(credential).get("/api/v1/vpn/agent/peers/")
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        parsed = peerlist.parse(response.content, credential)
        assert [(p.public_key, p.address) for p in parsed.peers] == [(live_key, live["address"])]
        assert (
            str(parsed.pool.network) == "10.99.0.0/24" and str(parsed.pool.gateway) == "10.99.0.1"
        )

        before = parsed.version
        client_for(personas["dana"]).post(f"/api/v1/vpn/devices/{server_made['id']}/config/")
        parsed = peerlist.parse(
            agent_client(credential).get("/api/v1/vpn/agent/peers/").content, credential
        )
        assert parsed.version > before and len(parsed.peers) == 2
        agent = GatewayAgent.objects.get()
        assert agent.last_seen_at is not None and agent.last_list_version == parsed.version

    def test_lists_generated_again_have_the_same_peer_digest(self, personas):
        """What the agent compares (docs/vpn.md#the-peer-list) leaves out generated_at:
        the agent re-applies only when the peers change."""
        credential = issue_agent(personas["ivy"])
        keyed_device(personas["bob"], personas["alice"])
        bodies = [
            agent_client(credential).get("/api/v1/vpn/agent/peers/").content for _ in range(2)
        ]
        first, second = (peerlist.parse(body, credential) for body in bodies)
        assert first.raw["generated_at"] != second.raw["generated_at"]
        assert first.sha256 != second.sha256 and first.version == second.version
        assert first.peers_sha256 == second.peers_sha256
        keyed_device(personas["leo"], personas["alice"])
        third = peerlist.parse(
            agent_client(credential).get("/api/v1/vpn/agent/peers/").content, credential
        )
        assert third.peers_sha256 != first.peers_sha256

    def test_another_agents_credential_cannot_validate_the_list(self, personas):
        first = issue_agent(personas["ivy"], "gw1")
        second = issue_agent(personas["ivy"], "gw2")
        body = agent_client(first).get("/api/v1/vpn/agent/peers/").content
        with pytest.raises(peerlist.InvalidPeerList, match="signature"):
            peerlist.parse(body, second)

    def test_revocation_removes_the_peer_from_the_next_list(self, personas):
        credential = issue_agent(personas["ivy"])
        device, key = keyed_device(personas["bob"], personas["alice"])
        first = peerlist.parse(
            agent_client(credential).get("/api/v1/vpn/agent/peers/").content, credential
        )
        assert [p.public_key for p in first.peers] == [key]
        client_for(personas["bob"]).post(f"/api/v1/vpn/devices/{device['id']}/revoke/")
        second = peerlist.parse(
            agent_client(credential).get("/api/v1/vpn/agent/peers/").content, credential
        )
        assert second.peers == () and second.version > first.version


class TestStatusReports:
    def report(self, credential, peers):
        return agent_client(credential).post(
            "/api/v1/vpn/agent/status/", {"interface": "wg0", "peers": peers}, format="json"
        )

    def test_connection_start_and_end_are_stored_and_audited_once(self, personas):
        credential = issue_agent(personas["ivy"])
        device, key = keyed_device(personas["bob"], personas["alice"])
        now = int(time.time())
        peer = {"public_key": key, "endpoint": "203.0.113.7:41000", "latest_handshake": now,
                "rx_bytes": 1200, "tx_bytes": 3400}  # fmt: skip
        other = {**peer, "public_key": generate_key_pair()[1]}  # unknown key: ignored
        response = self.report(credential, [peer, other])
        assert response.status_code == 200, response.content
        assert response.json() == {"peers": 2, "matched": 1, "connection_changes": 1}
        stored = VpnDevice.objects.get(pk=device["id"])
        assert stored.connected_since is not None and stored.endpoint == "203.0.113.7:41000"
        assert stored.rx_bytes == 1200 and stored.tx_bytes == 3400
        self.report(credential, [{**peer, "rx_bytes": 5000}])
        assert AuditEvent.objects.filter(action="vpn.peer_connected").count() == 1
        since = VpnDevice.objects.get(pk=device["id"]).connected_since
        assert since == stored.connected_since

        stale = {**peer, "latest_handshake": now - 3600}
        assert self.report(credential, [stale]).json()["connection_changes"] == 1
        assert VpnDevice.objects.get(pk=device["id"]).connected_since is None
        event = AuditEvent.objects.get(action="vpn.peer_disconnected")
        assert (
            event.actor_username == "agent:gw1" and event.detail["owner_id"] == personas["bob"].pk
        )

    @pytest.mark.parametrize(
        "peers",
        [
            [{"public_key": "k", "latest_handshake": -1, "rx_bytes": 0, "tx_bytes": 0}],
            [{"public_key": "k", "latest_handshake": 0, "rx_bytes": "x", "tx_bytes": 0}],
            [{"public_key": "k", "latest_handshake": 0, "rx_bytes": 0, "tx_bytes": 0, "x": 1}],
            # Past what datetime can hold: was a 500 (OverflowError in fromtimestamp).
            [{"public_key": "k", "latest_handshake": 10**15, "rx_bytes": 0, "tx_bytes": 0}],
            [{"public_key": "k", "latest_handshake": 2**80, "rx_bytes": 0, "tx_bytes": 0}],
            "not a list",
        ],
    )
    def test_bad_reports_are_400(self, personas, peers):
        credential = issue_agent(personas["ivy"])
        assert self.report(credential, peers).status_code == 400

    def test_connections_list_scopes(self, personas):
        credential = issue_agent(personas["ivy"])
        bobs, bob_key = keyed_device(personas["bob"], personas["alice"])
        charlies, _ = keyed_device(personas["charlie"], personas["ivy"])
        self.report(credential, [{"public_key": bob_key, "endpoint": None,
                                  "latest_handshake": int(time.time()), "rx_bytes": 1,
                                  "tx_bytes": 2}])  # fmt: skip

        def rows(user, query=""):
            response = client_for(user).get("/api/v1/vpn/connections/" + query)
            assert response.status_code == 200, response.content
            return {r["device_id"]: r for r in response.json()["results"]}

        everyone = rows(personas["sam"])
        assert set(everyone) == {bobs["id"], charlies["id"]}
        assert everyone[bobs["id"]]["connected"] and everyone[bobs["id"]]["connected_since"]
        assert not everyone[charlies["id"]]["connected"]
        assert set(rows(personas["ivy"], "?connected=true")) == {bobs["id"]}
        assert set(rows(personas["alice"])) == {bobs["id"]}
        for who in ("bob", "charlie", "leo"):
            assert client_for(personas[who]).get("/api/v1/vpn/connections/").status_code == 403
        assert (
            AuditEvent.objects.filter(action="vpn.connections_view", result="denied").count() == 3
        )

    def test_connections_query_count_does_not_grow(self, personas, django_assert_max_num_queries):
        from tests.personas import make_user

        client = client_for(personas["sam"])
        for index in range(2):
            keyed_device(make_user(f"c{index}", personas["bob"].unit), personas["alice"])
        with django_assert_max_num_queries(5):
            assert len(client.get("/api/v1/vpn/connections/").json()["results"]) == 2
        for index in range(2, 14):
            keyed_device(make_user(f"c{index}", personas["bob"].unit), personas["alice"])
        with django_assert_max_num_queries(5):
            assert len(client.get("/api/v1/vpn/connections/").json()["results"]) == 14
