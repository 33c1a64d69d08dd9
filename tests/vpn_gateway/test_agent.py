"""The gateway agent against a loopback fake of the API (docs/vpn.md#the-gateway-agent):
a valid list is applied in one ``wg syncconf``; a truncated, altered or older list
is never applied; an outage keeps the last good set, also across a restart; the
credential is sent as a header and never logged. ``wg`` is replaced by a recorder."""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vpn_gateway import peerlist
from vpn_gateway.__main__ import main
from vpn_gateway.agent import Agent, AgentError, check_api_url, parse_dump, read_credential
from vpn_gateway.keys import generate_key_pair

CREDENTIAL = "gda_agent-test-credential"


def signed(
    version: int,
    addresses: list[str],
    *,
    keys: list[str] | None = None,
    generated_at: str = "2026-01-01T00:00:00Z",
) -> dict:
    keys = keys or [generate_key_pair()[1] for _ in addresses]
    payload = {
        "format": peerlist.FORMAT,
        "version": version,
        "generated_at": generated_at,
        "pool": "10.99.0.0/24",
        "gateway": "10.99.0.1",
        "peers": [
            {"id": i, "public_key": key, "address": a}
            for i, (key, a) in enumerate(zip(keys, addresses, strict=True), 1)
        ],
    }
    return peerlist.sign(payload, peerlist.credential_hash(CREDENTIAL))


class FakeApi:
    """Serves ``body`` at the peers path; records status reports and headers."""

    def __init__(self) -> None:
        self.body: bytes = b""
        self.status = 200
        self.truncate_to: int | None = None
        self.reports: list[dict] = []
        self.authorizations: list[str] = []
        self.stopped = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_GET(self):
                fake.authorizations.append(self.headers.get("Authorization", ""))
                body = fake.body
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if fake.truncate_to is None else body[: fake.truncate_to])

            def do_POST(self):
                fake.authorizations.append(self.headers.get("Authorization", ""))
                length = int(self.headers.get("Content-Length", "0"))
                fake.reports.append(json.loads(self.rfile.read(length)))
                payload = b'{"peers": 0, "matched": 0, "connection_changes": 0}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, document: dict) -> None:
        self.body = json.dumps(document).encode()

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()


GW_PRIVATE = generate_key_pair()[0]
SHOWCONF = (
    f"[Interface]\nListenPort = 51820\nFwMark = 0x1\nPrivateKey = {GW_PRIVATE}\n"
    "\n[Peer]\nPublicKey = x\n"
)


class FakeWg:
    """Stands in for ``wg``: remembers each applied peer set and answers ``dump``
    (with ``reflect``, the dump lists the peers of the last syncconf, as a real
    interface would; ``peers`` is what the interface holds now)."""

    def __init__(self, reflect: bool = False) -> None:
        self.applied: list[str] = []
        self.dump = "priv\tpub\t51820\toff\n"
        self.reflect = reflect
        self.peers: list[tuple[str, str]] = []

    def __call__(self, argv: list[str]) -> str:
        if argv[1] == "syncconf":
            text = Path(argv[3]).read_text()
            self.applied.append(text)
            keys = re.findall(r"PublicKey = (\S+)\nAllowedIPs = (\S+)", text)
            self.peers = [(key, allowed) for key, allowed in keys]
            return ""
        if argv[1:] == ["show", "wgd-test", "dump"]:
            if self.reflect:
                lines = [f"{k}\t(none)\t(none)\t{a}\t0\t0\t0\toff" for k, a in self.peers]
                return "\n".join([self.dump.rstrip("\n"), *lines]) + "\n"
            return self.dump
        if argv[1:] == ["showconf", "wgd-test"]:
            return SHOWCONF
        raise AssertionError(argv)


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    fake.stop()


def make_agent(api: FakeApi, tmp_path: Path, wg: FakeWg) -> Agent:
    return Agent(
        api=api.url,
        credential=CREDENTIAL,
        interface="wgd-test",
        state_dir=tmp_path / "state",
        interval=1,
        insecure_loopback=True,
        runner=wg,
        timeout=3,
    )


def test_applies_a_valid_list_and_reports(api, tmp_path):
    wg = FakeWg()
    document = signed(5, ["10.99.0.2", "10.99.0.3"])
    api.serve(document)
    agent = make_agent(api, tmp_path, wg)
    assert agent.run_once() is True
    assert len(wg.applied) == 1
    # syncconf replaces the whole configuration: the interface's key and port stay in it.
    assert wg.applied[0].startswith(
        f"[Interface]\nListenPort = 51820\nFwMark = 0x1\nPrivateKey = {GW_PRIVATE}\n\n[Peer]"
    )
    # The old peer (public key "x") is gone; a generated key may start with an x.
    assert "PublicKey = x\n" not in wg.applied[0]
    for peer in document["peers"]:
        assert (
            f"PublicKey = {peer['public_key']}\nAllowedIPs = {peer['address']}/32" in wg.applied[0]
        )
    assert json.loads((tmp_path / "state" / "peers.json").read_text()) == document
    assert api.authorizations == [f"Agent {CREDENTIAL}"] * 2
    assert api.reports == [{"interface": "wgd-test", "list_version": 5, "peers": []}]
    # No temporary file is left behind.
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["peers.json"]


@pytest.mark.parametrize("cut", [0, 1, 40, -60, -1])
def test_truncated_body_is_never_applied(api, tmp_path, cut):
    wg = FakeWg()
    good = signed(1, ["10.99.0.2"])
    api.serve(good)
    agent = make_agent(api, tmp_path, wg)
    assert agent.run_once()
    api.serve(signed(2, ["10.99.0.5", "10.99.0.6"]))
    api.truncate_to = cut if cut >= 0 else len(api.body) + cut
    assert agent.run_once() is False
    assert len(wg.applied) == 1 and agent.applied is not None and agent.applied.version == 1
    assert json.loads((tmp_path / "state" / "peers.json").read_text()) == good


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["peers"].pop(),  # a peer dropped: digest fails
        lambda d: d.update(signature="0" * 64),
        lambda d: d["peers"][0].update(address="10.98.0.9"),
    ],
)
def test_altered_list_is_never_applied(api, tmp_path, change):
    wg = FakeWg()
    api.serve(signed(1, ["10.99.0.2"]))
    agent = make_agent(api, tmp_path, wg)
    agent.run_once()
    document = signed(2, ["10.99.0.5", "10.99.0.6"])
    change(document)
    api.serve(document)
    assert agent.run_once() is False and len(wg.applied) == 1


def test_an_older_list_is_refused(api, tmp_path):
    wg = FakeWg()
    api.serve(signed(7, ["10.99.0.2"]))
    agent = make_agent(api, tmp_path, wg)
    agent.run_once()
    api.serve(signed(6, []))  # a replayed list from before a change
    assert agent.run_once() is False and len(wg.applied) == 1


def test_outage_keeps_the_last_set_also_after_a_restart(api, tmp_path, caplog):
    wg = FakeWg()
    api.serve(signed(3, ["10.99.0.2", "10.99.0.4"]))
    agent = make_agent(api, tmp_path, wg)
    assert agent.run_once()
    api.status = 503
    assert agent.run_once() is False
    url = api.url
    api.stop()  # the API is gone altogether
    with caplog.at_level(logging.WARNING, logger="vpn_gateway.agent"):
        assert agent.run_once() is False
    assert "keeping the current peers" in caplog.text
    assert len(wg.applied) == 1

    # The gateway restarts while the API is still down: the saved set is applied.
    restarted_wg = FakeWg()
    restarted = Agent(
        api=url, credential=CREDENTIAL, interface="wgd-test", state_dir=tmp_path / "state",
        interval=1, insecure_loopback=True, runner=restarted_wg, timeout=1,
    )  # fmt: skip
    assert restarted.restore() is True
    assert restarted_wg.applied == wg.applied


def test_a_tampered_saved_list_is_not_restored(api, tmp_path):
    wg = FakeWg()
    api.serve(signed(3, ["10.99.0.2"]))
    agent = make_agent(api, tmp_path, wg)
    agent.run_once()
    saved = tmp_path / "state" / "peers.json"
    document = json.loads(saved.read_text())
    document["peers"][0]["address"] = "10.99.0.9"
    saved.write_text(json.dumps(document))
    fresh = FakeWg()
    assert make_agent(api, tmp_path, fresh).restore() is False and fresh.applied == []


def test_credential_is_never_logged(api, tmp_path, caplog):
    wg = FakeWg()
    api.serve(signed(1, ["10.99.0.2"]))
    with caplog.at_level(logging.DEBUG):
        agent = make_agent(api, tmp_path, wg)
        agent.run_once()
        api.status = 401
        agent.run_once()
        repr(agent)
    assert CREDENTIAL not in caplog.text and CREDENTIAL not in repr(agent)


def test_url_rules():
    assert (
        check_api_url("https://govdesk.example/", insecure_loopback=False)
        == "https://govdesk.example"
    )
    with pytest.raises(AgentError):
        check_api_url("http://127.0.0.1:8000", insecure_loopback=False)
    assert check_api_url("http://127.0.0.1:8000", insecure_loopback=True)
    assert check_api_url("http://[::1]:8000", insecure_loopback=True)
    for url in ("http://10.0.0.5:8000", "http://localhost.evil:80", "ftp://x"):
        with pytest.raises(AgentError):
            check_api_url(url, insecure_loopback=True)


def test_tls_is_verified(tmp_path):
    """An https API whose certificate is not trusted fails the sync (no fallback)."""
    import ssl
    import subprocess

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip("openssl is not available to make a test certificate")
    api = FakeApi()
    api.serve(signed(1, ["10.99.0.2"]))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    api.server.socket = context.wrap_socket(api.server.socket, server_side=True)
    url = f"https://127.0.0.1:{api.server.server_address[1]}"
    try:
        common = {"api": url, "credential": CREDENTIAL, "interface": "wgd-test", "timeout": 3}
        untrusted = Agent(**common, state_dir=tmp_path / "a", runner=FakeWg())
        with pytest.raises(AgentError):
            untrusted.sync()
        wg = FakeWg()
        trusted = Agent(**common, state_dir=tmp_path / "b", runner=wg, ca_file=str(cert))
        assert trusted.sync().version == 1 and len(wg.applied) == 1
    finally:
        api.stop()


def test_parse_dump():
    text = (
        "cHJpdg==\tcHVi\t51820\toff\n"
        "KEYA=\t(none)\t203.0.113.9:41000\t10.99.0.2/32\t1700000000\t123\t456\t25\n"
        "KEYB=\t(none)\t(none)\t10.99.0.3/32\t0\t0\t0\toff\n"
    )
    a, b = parse_dump(text)
    assert (a.public_key, a.endpoint, a.latest_handshake, a.rx_bytes, a.tx_bytes) == (
        "KEYA=", "203.0.113.9:41000", 1700000000, 123, 456,
    )  # fmt: skip
    assert b.endpoint is None and b.latest_handshake is None


def test_credential_file(tmp_path):
    path = tmp_path / "credential"
    path.write_text(CREDENTIAL + "\n")
    path.chmod(0o600)
    assert read_credential(path) == CREDENTIAL
    path.write_text("two words")
    with pytest.raises(AgentError):
        read_credential(path)
    with pytest.raises(AgentError):
        read_credential(tmp_path / "missing")


def test_command_line_refuses_plain_http_without_the_flag(tmp_path, capsys):
    path = tmp_path / "credential"
    path.write_text(CREDENTIAL)
    path.chmod(0o600)
    argv = ["agent", "--api", "http://127.0.0.1:1", "--credential-file", str(path)]
    argv += ["--interface", "wgd-test", "--state-dir", str(tmp_path / "s"), "--once"]
    code = main(argv)
    assert code == 2 and "insecure-loopback" in capsys.readouterr().err


def test_unreadable_wg_dump_skips_the_report_but_keeps_the_peers(api, tmp_path):
    """A `wg show dump` line this agent cannot parse (another wg version) must not stop
    the loop: the peers stay applied, the report waits for the next round."""
    wg = FakeWg()
    wg.dump = (
        "priv\tpub\t51820\toff\npeer\t(none)\t1.2.3.4:5\t10.99.0.2/32\tnot-a-number\t0\t0\toff\n"
    )
    api.serve(signed(3, ["10.99.0.2"]))
    agent = make_agent(api, tmp_path, wg)
    assert agent.run_once() is True
    assert len(wg.applied) == 1 and agent.applied is not None and agent.applied.version == 3
    assert api.reports == []


def test_the_same_peers_generated_again_have_the_same_digest():
    """The digest the agent compares leaves out the generation time (and the version,
    the device ids and the order): only a change of the peers changes it."""
    keys = [generate_key_pair()[1] for _ in range(2)]
    addresses = ["10.99.0.2", "10.99.0.3"]
    first = signed(4, addresses, keys=keys, generated_at="2026-12-07T08:00:00+00:00")
    again = signed(4, addresses, keys=keys, generated_at="2026-12-07T08:00:30+00:00")
    bumped = signed(5, addresses[::-1], keys=keys[::-1], generated_at="2026-12-07T08:01:00Z")
    parse = [peerlist.parse(json.dumps(d).encode(), CREDENTIAL) for d in (first, again, bumped)]
    assert first["sha256"] != again["sha256"]  # the whole list's digest still covers it
    assert parse[0].peers_sha256 == parse[1].peers_sha256 == parse[2].peers_sha256
    other = signed(6, ["10.99.0.2", "10.99.0.4"], keys=keys)
    assert peerlist.parse(json.dumps(other).encode(), CREDENTIAL).peers_sha256 != (
        parse[0].peers_sha256
    )


def test_applies_and_logs_applied_only_when_the_peers_change(api, tmp_path, caplog):
    wg = FakeWg(reflect=True)
    keys = [generate_key_pair()[1] for _ in range(2)]
    addresses = ["10.99.0.2", "10.99.0.3"]
    agent = make_agent(api, tmp_path, wg)
    saved = tmp_path / "state" / "peers.json"
    with caplog.at_level(logging.INFO, logger="vpn_gateway.agent"):
        api.serve(signed(4, addresses, keys=keys, generated_at="2026-12-07T08:00:00+00:00"))
        assert agent.run_once()
        # Generated again 30 s later: the same peers, nothing applied, nothing logged.
        api.serve(signed(4, addresses, keys=keys, generated_at="2026-12-07T08:00:30+00:00"))
        assert agent.run_once()
        assert agent.run_once()
        assert len(wg.applied) == 1
        assert caplog.text.count("applied 2 peers") == 1
        assert json.loads(saved.read_text())["version"] == 4
        # A new version without a peer change (e.g. an approval of a device that has
        # no key yet): still nothing applied, but the newer version is kept.
        api.serve(signed(5, addresses, keys=keys, generated_at="2026-12-07T08:01:00+00:00"))
        assert agent.run_once()
        assert len(wg.applied) == 1 and agent.applied is not None and agent.applied.version == 5
        assert json.loads(saved.read_text())["version"] == 5
        api.serve(signed(4, addresses, keys=keys))  # and the older one is refused again
        assert agent.run_once() is False
        # A peer changes: applied and logged.
        api.serve(signed(6, addresses[:1], keys=keys[:1]))
        assert agent.run_once()
    applied = [r.getMessage() for r in caplog.records if r.getMessage().startswith("applied")]
    assert len(wg.applied) == 2
    assert applied == ["applied 2 peers (list version 4)", "applied 1 peers (list version 6)"]
    assert "re-applying" not in caplog.text  # the interface never drifted


def test_an_interface_that_lost_its_peers_gets_them_back(api, tmp_path, caplog):
    wg = FakeWg(reflect=True)
    api.serve(signed(3, ["10.99.0.2"]))
    agent = make_agent(api, tmp_path, wg)
    assert agent.run_once() and len(wg.applied) == 1
    wg.peers = []  # e.g. wg-quick down/up behind the agent's back
    with caplog.at_level(logging.WARNING, logger="vpn_gateway.agent"):
        assert agent.run_once()  # the report notices
    assert "re-applying at the next sync" in caplog.text
    assert agent.run_once() and len(wg.applied) == 2 and len(wg.peers) == 1
    assert agent.run_once() and len(wg.applied) == 2
