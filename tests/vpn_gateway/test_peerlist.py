"""Validation of the whole peer list (docs/vpn.md#the-peer-list)."""

from __future__ import annotations

import json

import pytest

from vpn_gateway import peerlist
from vpn_gateway.keys import generate_key_pair

CREDENTIAL = "gda_test-credential"


def make(peers=None, version=3, credential=CREDENTIAL, **fields) -> dict:
    payload = {
        "format": peerlist.FORMAT,
        "version": version,
        "generated_at": "2026-01-01T00:00:00Z",
        "pool": "10.99.0.0/24",
        "gateway": "10.99.0.1",
        "peers": peers if peers is not None else [
            {"id": 1, "public_key": generate_key_pair()[1], "address": "10.99.0.2"},
            {"id": 2, "public_key": generate_key_pair()[1], "address": "10.99.0.3"},
        ],
    }  # fmt: skip
    payload.update(fields)
    return peerlist.sign(payload, peerlist.credential_hash(credential))


def body(document: dict) -> bytes:
    return json.dumps(document).encode()


def test_valid_list():
    parsed = peerlist.parse(body(make()), CREDENTIAL)
    assert parsed.version == 3 and [p.address for p in parsed.peers] == ["10.99.0.2", "10.99.0.3"]


def test_truncated_body_is_refused_at_every_length():
    raw = body(make())
    for cut in range(0, len(raw), 7):
        with pytest.raises(peerlist.InvalidPeerList):
            peerlist.parse(raw[:cut], CREDENTIAL)


def test_list_cut_at_a_peer_boundary_fails_the_digest():
    document = make()
    document["peers"] = document["peers"][:1]
    with pytest.raises(peerlist.InvalidPeerList, match="sha256"):
        peerlist.parse(body(document), CREDENTIAL)


def test_recomputed_digest_without_the_key_fails_the_signature():
    import hashlib

    document = make()
    document["peers"] = document["peers"][:1]
    document["sha256"] = hashlib.sha256(peerlist.canonical(document)).hexdigest()
    with pytest.raises(peerlist.InvalidPeerList, match="signature"):
        peerlist.parse(body(document), CREDENTIAL)


def test_other_credential_fails():
    with pytest.raises(peerlist.InvalidPeerList, match="signature"):
        peerlist.parse(body(make(credential="gda_other")), CREDENTIAL)


_, KEY = generate_key_pair()
_, OTHER_KEY = generate_key_pair()


@pytest.mark.parametrize(
    ("peers", "why"),
    [
        ([{"id": 1, "public_key": "bad", "address": "10.99.0.2"}], "public key"),
        ([{"id": 1, "public_key": KEY, "address": "10.98.0.2"}], "address"),
        ([{"id": 1, "public_key": KEY, "address": "10.99.0.1"}], "address"),  # the gateway
        ([{"id": 1, "public_key": KEY, "address": "10.99.0.255"}], "address"),  # broadcast
        ([{"id": 1, "public_key": KEY, "address": "10.99.0.2/32"}], "address"),
        ([{"id": 1, "public_key": KEY, "address": "10.99.0.2"},
          {"id": 2, "public_key": KEY, "address": "10.99.0.3"}], "duplicate public key"),
        ([{"id": 1, "public_key": KEY, "address": "10.99.0.2"},
          {"id": 2, "public_key": OTHER_KEY, "address": "10.99.0.2"}], "duplicate address"),
        ([{"id": 1, "public_key": KEY, "address": "10.99.0.2", "extra": 1}], "fields"),
        (["x"], "fields"),
    ],
)  # fmt: skip
def test_invalid_peers_refuse_the_whole_list(peers, why):
    with pytest.raises(peerlist.InvalidPeerList, match=why):
        peerlist.parse(body(make(peers)), CREDENTIAL)


@pytest.mark.parametrize(
    "fields",
    [{"version": -1}, {"version": "3"}, {"version": True}, {"format": "x"}, {"pool": "fd00::/64"}],
)
def test_invalid_header_fields(fields):
    with pytest.raises(peerlist.InvalidPeerList):
        peerlist.parse(body(make(**fields)), CREDENTIAL)


def test_not_an_object_or_extra_fields():
    for raw in (b"[]", b"null", body({**make(), "more": 1}), b"\xff\xfe"):
        with pytest.raises(peerlist.InvalidPeerList):
            peerlist.parse(raw, CREDENTIAL)
