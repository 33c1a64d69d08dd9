"""The network-zone policy on its own (docs/network-zones.md): address parsing, the
X-Forwarded-For algorithm, and the no-spoofing property."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpn_gateway.zones import (
    BAD_FORWARDED,
    MAX_FORWARDED_HOPS,
    NO_PEER,
    OUTSIDE,
    NetworkZonePolicy,
    parse_address,
    parse_network,
)

ip = ipaddress.ip_address

INTRANET = ["10.0.0.0/8", "172.16.0.0/12", "fd00:abcd::/32"]
VPN_POOL = "10.99.0.0/16"
PROXIES = ["192.168.100.0/24", "fd00:1::10/128"]


def policy(**kwargs) -> NetworkZonePolicy:
    return NetworkZonePolicy(
        kwargs.get("allowed", [*INTRANET, VPN_POOL]), kwargs.get("trusted", PROXIES)
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("  10.1.2.3\t", "10.1.2.3"),
        ("10.1.2.3:5000", "10.1.2.3"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("[::ffff:10.0.0.1]:8080", "10.0.0.1"),
        ("::ffff:a00:1", "10.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("FD00:ABCD::1", "fd00:abcd::1"),
    ],
)
def test_parse_address_normalises(value, expected):
    assert parse_address(value) == ip(expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "unknown",
        "_hidden",
        "10.0.0",
        "010.0.0.1",  # leading zeros: octal or decimal? refuse
        "10.0.0.1:",
        "10.0.0.1:port",
        "10.0.0.1:123456",
        "10.0.0.1%eth0",
        "fe80::1%",
        "[::1",
        "[::1]x",
        "[::1]:",
        "[10.0.0.1",
        "10.0.0.1, 10.0.0.2",
        "1" * 100,
        "１０.０.０.１",  # full-width digits
        "0x0a.0.0.1",
    ],
)
def test_parse_address_refuses_garbage(value):
    assert parse_address(value) is None


def test_mapped_networks_are_matched_as_ipv4():
    assert parse_network("::ffff:10.0.0.0/104") == [ipaddress.ip_network("10.0.0.0/8")]
    zone = NetworkZonePolicy(["::ffff:10.0.0.0/104"])
    assert zone.decide("10.2.3.4", None).allowed
    assert zone.decide("::ffff:10.2.3.4", None).allowed
    assert not zone.decide("11.0.0.1", None).allowed
    everything_v6 = NetworkZonePolicy(["::/0"])
    assert everything_v6.decide("::ffff:8.8.8.8", None).allowed


def test_policy_accepts_strings_and_network_objects():
    a = NetworkZonePolicy([ipaddress.ip_network("10.0.0.0/8")], ["192.168.1.1"])
    b = NetworkZonePolicy(["10.0.0.0/8"], [ipaddress.ip_network("192.168.1.1/32")])
    assert a.allowed == b.allowed and a.trusted_proxies == b.trusted_proxies


class TestDirectPeers:
    def test_intranet_and_vpn_pool_allowed(self):
        zone = policy()
        assert zone.decide("10.20.30.40", None).allowed
        assert zone.decide("10.99.0.7", None).allowed
        assert zone.decide("fd00:abcd::5", None).allowed

    def test_outside_refused_with_reason(self):
        decision = policy().decide("203.0.113.9", None)
        assert not decision.allowed
        assert decision.client == ip("203.0.113.9")
        assert decision.reason == OUTSIDE

    def test_no_peer_refused(self):
        for peer in (None, "", "unix:/run/gunicorn.sock"):
            decision = policy().decide(peer, "10.0.0.1")
            assert not decision.allowed and decision.client is None
            assert decision.reason == NO_PEER

    def test_ipv4_mapped_peer_from_dual_stack_socket(self):
        decision = policy().decide("::ffff:10.0.0.9", None)
        assert decision.allowed and decision.client == ip("10.0.0.9")

    def test_ipv4_network_does_not_match_ipv6_address(self):
        assert not NetworkZonePolicy(["0.0.0.0/0"]).decide("2001:db8::1", None).allowed

    def test_untrusted_peer_xff_is_ignored(self):
        decision = policy().decide("203.0.113.9", "10.0.0.1")
        assert not decision.allowed
        assert decision.client == ip("203.0.113.9")
        assert not decision.via_proxy

    def test_allowed_but_untrusted_peer_keeps_its_own_address(self):
        # An intranet machine that is not a proxy cannot claim to be someone else.
        decision = policy().decide("10.5.5.5", "10.6.6.6")
        assert decision.allowed and decision.client == ip("10.5.5.5")


class TestTrustedProxies:
    def test_single_proxy_forwarding_intranet_client(self):
        decision = policy().decide("192.168.100.2", "10.1.1.1")
        assert decision.allowed and decision.via_proxy
        assert decision.client == ip("10.1.1.1")

    def test_single_proxy_forwarding_outside_client(self):
        decision = policy().decide("192.168.100.2", "198.51.100.4")
        assert not decision.allowed and decision.client == ip("198.51.100.4")

    def test_spoofed_left_entries_do_not_count(self):
        # The client sent "X-Forwarded-For: 10.0.0.1"; nginx appended the real address.
        decision = policy().decide("192.168.100.2", "10.0.0.1, 198.51.100.4")
        assert not decision.allowed and decision.client == ip("198.51.100.4")

    def test_chained_proxies(self):
        # client → proxy fd00:1::10 → proxy 192.168.100.3 → us
        decision = policy().decide("192.168.100.3", "198.51.100.77, 10.2.2.2, fd00:1::10")
        assert decision.allowed and decision.client == ip("10.2.2.2")

    def test_chain_through_untrusted_middle_stops_there(self):
        # 10.3.3.3 is not a trusted proxy: whatever it claims is not believed.
        decision = policy().decide("192.168.100.3", "10.2.2.2, 203.0.113.1, 10.3.3.3")
        assert decision.client == ip("10.3.3.3") and decision.allowed
        decision = policy().decide("192.168.100.3", "10.2.2.2, 10.3.3.3, 203.0.113.1")
        assert decision.client == ip("203.0.113.1") and not decision.allowed

    def test_all_hops_trusted_means_the_leftmost_proxy_is_the_client(self):
        zone = policy(allowed=[*INTRANET, "192.168.100.0/24"])
        decision = zone.decide("192.168.100.3", "192.168.100.4")
        assert decision.client == ip("192.168.100.4") and decision.allowed

    def test_proxy_without_forwarded_for_is_itself_the_client(self):
        decision = policy().decide("192.168.100.2", None)
        assert decision.client == ip("192.168.100.2") and not decision.allowed
        assert not decision.via_proxy

    def test_ports_brackets_and_mapped_hops(self):
        decision = policy().decide("[::ffff:192.168.100.2]:40000", "[fd00:abcd::9]:1234")
        assert decision.allowed and decision.client == ip("fd00:abcd::9")
        decision = policy().decide("192.168.100.2", "::ffff:10.7.7.7")
        assert decision.client == ip("10.7.7.7") and decision.allowed

    def test_empty_hops_are_skipped(self):
        # nginx turns an empty client header into ", <addr>".
        assert policy().decide("192.168.100.2", ", 10.1.1.1").client == ip("10.1.1.1")
        assert policy().decide("192.168.100.2", "10.1.1.1,, ,").client == ip("10.1.1.1")
        decision = policy().decide("192.168.100.2", " , ,")
        assert decision.client == ip("192.168.100.2")

    def test_multiple_headers_joined_by_commas(self):
        # WSGI servers join repeated headers with ","; the right-most still wins.
        decision = policy().decide("192.168.100.2", "10.0.0.1,198.51.100.4")
        assert decision.client == ip("198.51.100.4")

    def test_garbage_hop_from_trusted_proxy_refuses(self):
        for header in ("unknown", "10.1.1.1, garbage", "10.1.1.1, _hidden", "10.1.1.1, 010.1.1.1"):
            decision = policy().decide("192.168.100.2", header)
            assert not decision.allowed and decision.client is None, header
            assert decision.reason == BAD_FORWARDED

    def test_garbage_left_of_the_client_is_never_read(self):
        decision = policy().decide("192.168.100.2", "garbage, unknown, 10.1.1.1")
        assert decision.allowed and decision.client == ip("10.1.1.1")

    def test_too_many_trusted_hops_refused(self):
        header = ", ".join(["192.168.100.9"] * (MAX_FORWARDED_HOPS + 1))
        zone = policy(allowed=[*INTRANET, "192.168.100.0/24"])
        assert not zone.decide("192.168.100.2", header).allowed
        header = ", ".join(["192.168.100.9"] * (MAX_FORWARDED_HOPS - 1))
        assert zone.decide("192.168.100.2", header).allowed


def test_demo_default_allows_loopback_only():
    zone = NetworkZonePolicy(["127.0.0.0/8", "::1/128"], [])
    assert zone.decide("127.0.0.1", None).allowed
    assert zone.decide("::1", None).allowed
    assert zone.decide("::ffff:127.0.0.1", None).allowed
    assert not zone.decide("10.0.0.1", None).allowed
    assert not zone.decide("203.0.113.1", "127.0.0.1").allowed


# --- properties ------------------------------------------------------------------------

addresses = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.ip_addresses(v=4).map(lambda a: f"{a}:{a.packed[0] * 200}"),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]:443"),
)
hop_values = st.one_of(
    addresses,
    st.sampled_from(["127.0.0.1", "10.0.0.1", "192.168.100.2", "::1", "unknown", "", " "]),
    st.text(max_size=20),
)
forwarded_values = st.one_of(
    st.none(),
    st.lists(hop_values, max_size=8).map(", ".join),
    st.lists(hop_values, max_size=8).map(",".join),
    st.text(max_size=80),
)
untrusted_peers = st.one_of(
    st.ip_addresses(v=4).filter(lambda a: a not in ipaddress.ip_network("192.168.100.0/24")),
    st.ip_addresses(v=6).filter(lambda a: a != ip("fd00:1::10")),
).map(str)


@settings(max_examples=300, deadline=None)
@given(peer=untrusted_peers, forwarded_for=forwarded_values)
def test_untrusted_peer_cannot_spoof(peer, forwarded_for):
    """For any X-Forwarded-For from an untrusted peer, the decision is the decision
    for the peer alone."""
    zone = policy(allowed=[*INTRANET, VPN_POOL, "127.0.0.0/8", "::1/128"])
    assert zone.decide(peer, forwarded_for) == zone.decide(peer, None)


@settings(max_examples=300, deadline=None)
@given(
    spoofed=st.lists(hop_values, max_size=6),
    real_client=st.ip_addresses(v=4).filter(
        lambda a: a not in ipaddress.ip_network("192.168.100.0/24")
    ),
)
def test_behind_a_trusted_proxy_only_the_appended_address_counts(spoofed, real_client):
    """Whatever the client put in its own header, nginx's appended address decides."""
    zone = policy()
    header = ", ".join([*spoofed, str(real_client)])
    decision = zone.decide("192.168.100.2", header)
    assert decision.client == real_client
    assert decision.allowed == zone.decide(str(real_client), None).allowed
