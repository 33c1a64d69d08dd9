"""Keys, the address pool and the config texts (docs/vpn.md): plain Python, plus
``wg-quick strip`` and ``wg`` on the generated files where wireguard-tools is installed."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from vpn_gateway.config import ClientConfig, ServerPeer, qr_png, render_server_peers
from vpn_gateway.keys import generate_key_pair, is_valid_key, public_key_of
from vpn_gateway.pool import AddressPool, PoolExhausted

needs_wg = pytest.mark.skipif(
    shutil.which("wg-quick") is None or shutil.which("wg") is None,
    reason="wireguard-tools is not installed (apt-get install wireguard-tools; .ci/run does)",
)


def config(private_key: str | None = None, **overrides) -> ClientConfig:
    _, server_public = generate_key_pair()
    values = {
        "address": "10.99.0.2",
        "server_public_key": server_public,
        "endpoint": "vpn.example.gov.cn:51820",
        "allowed_ips": ["10.0.0.0/8", "172.16.0.0/12"],
        "private_key": private_key,
        "dns": ["10.0.0.53"],
    }
    values.update(overrides)
    return ClientConfig(**values)


class TestKeys:
    def test_generated_pairs_are_wireguard_keys(self):
        private, public = generate_key_pair()
        assert is_valid_key(private) and is_valid_key(public) and private != public
        assert public_key_of(private) == public

    @needs_wg
    def test_public_key_matches_wg_pubkey(self):
        private, public = generate_key_pair()
        out = subprocess.run(
            ["wg", "pubkey"], input=private, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == public

    @pytest.mark.parametrize(
        "text",
        ["", "x", "A" * 44, "A" * 43 + "=" + "\n", "A" * 42 + "B=", None, 42, "A" * 42 + "A= "],
    )
    def test_invalid_keys(self, text):
        assert not is_valid_key(text)


class TestPool:
    def test_skips_network_gateway_and_broadcast(self):
        pool = AddressPool.parse("10.99.0.0/30")
        assert str(pool.gateway) == "10.99.0.1"
        assert str(pool.allocate([])) == "10.99.0.2"
        with pytest.raises(PoolExhausted):
            pool.allocate(["10.99.0.2"])
        assert not pool.is_assignable("10.99.0.0")
        assert not pool.is_assignable("10.99.0.1")
        assert not pool.is_assignable("10.99.0.3")
        assert not pool.is_assignable("10.98.0.2")
        assert not pool.is_assignable("junk")

    def test_unavailable_addresses_are_skipped(self):
        pool = AddressPool.parse("10.99.0.0/24", "10.99.0.254")
        assert str(pool.allocate([])) == "10.99.0.1"
        assert str(pool.allocate(["10.99.0.1", "10.99.0.2"])) == "10.99.0.3"

    @pytest.mark.parametrize(
        ("cidr", "gateway"),
        [
            ("10.99.0.0/31", None),
            ("fd00::/64", None),
            ("10.99.0.1/24", None),
            ("10.99.0.0/24", "10.98.0.1"),
        ],
    )
    def test_bad_pools(self, cidr, gateway):
        with pytest.raises(ValueError):
            AddressPool.parse(cidr, gateway)


class TestClientConfig:
    def test_text(self):
        private, _ = generate_key_pair()
        text = config(private).render()
        assert text.startswith("[Interface]\nPrivateKey = ")
        assert "Address = 10.99.0.2/32" in text and "DNS = 10.0.0.53" in text
        assert "AllowedIPs = 10.0.0.0/8, 172.16.0.0/12" in text
        assert "PersistentKeepalive = 25" in text

    @pytest.mark.parametrize(
        "overrides",
        [
            {"endpoint": "vpn.example:51820\nPostUp = rm -rf /"},
            {"endpoint": "vpn.example"},
            {"endpoint": "vpn.example:70000"},
            {"address": "10.99.0.2\nPostUp = id"},
            {"server_public_key": "x\nPostUp = id"},
            {"dns": ["10.0.0.53\nPostUp = id"]},
            {"allowed_ips": ["10.0.0.0/8\nPostUp = id"]},
        ],
    )
    def test_injection_is_refused(self, overrides):
        with pytest.raises(ValueError):
            config(**overrides).render()

    @needs_wg
    @pytest.mark.parametrize("with_private_key", [True, False])
    def test_passes_wg_quick_strip(self, tmp_path, with_private_key):
        private, _ = generate_key_pair()
        text = config(private if with_private_key else None).render()
        path = tmp_path / "wgd-test.conf"  # wg-quick wants <interface>.conf
        path.write_text(text)
        path.chmod(0o600)
        stripped = subprocess.run(
            ["wg-quick", "strip", str(path)], capture_output=True, text=True, check=True
        ).stdout
        # wg-quick keeps what wg understands and drops Address/DNS (its own keys).
        assert "Address" not in stripped and "DNS" not in stripped
        assert ("PrivateKey = " + private in stripped) is with_private_key
        assert "Endpoint = vpn.example.gov.cn:51820" in stripped

    def test_qr_decodes_to_the_same_text(self):
        zxingcpp = pytest.importorskip(
            "zxingcpp", reason="needs zxing-cpp (pip) to decode QR codes"
        )
        from PIL import Image

        private, _ = generate_key_pair()
        text = config(private).render()
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(text))))
        assert [result.text for result in decoded] == [text]


class TestServerPeers:
    def test_interface_lines_are_carried_over_from_showconf(self):
        from vpn_gateway.config import interface_section

        private, public = generate_key_pair()
        showconf = (
            f"[Interface]\nListenPort = 51820\nFwMark = 0x2a\nPrivateKey = {private}\n\n"
            f"[Peer]\nPublicKey = {public}\nAllowedIPs = 10.99.0.9/32\nEndpoint = 1.2.3.4:5\n"
        )
        lines = interface_section(showconf)
        assert lines == ["ListenPort = 51820", "FwMark = 0x2a", f"PrivateKey = {private}"]
        text = render_server_peers([], lines)
        assert text == "[Interface]\n" + "\n".join(lines) + "\n"
        with pytest.raises(ValueError):
            render_server_peers([], ["PostUp = id"])

    def test_render(self):
        _, a = generate_key_pair()
        _, b = generate_key_pair()
        text = render_server_peers([ServerPeer(a, "10.99.0.3"), ServerPeer(b, "10.99.0.2")])
        assert text.index(b) < text.index(a)  # sorted by address
        assert "AllowedIPs = 10.99.0.2/32" in text and "AllowedIPs = 10.99.0.3/32" in text
        with pytest.raises(ValueError):
            render_server_peers([ServerPeer("bad", "10.99.0.2")])
