"""Real WireGuard tunnels between two network namespaces (docs/vpn.md#testing-with-real-tunnels).

``gdvpn-gw`` holds the gateway: a wireguard-go interface ``wgd-gw`` (10.99.0.1/24),
the API (gunicorn on a scratch SQLite database) and the gateway agent, which talks to
the API over the namespace's loopback. ``gdvpn-cl`` is the phone: a wireguard-go
interface ``wgd-cl`` configured from the config the API hands out once. A veth pair
(172.31.231.1 ↔ .2) carries the encrypted packets.

Checked: the agent applies the approved peer; a request from the client namespace
through the tunnel reaches the API and is attributed to fay's device; gus's token
from fay's device is refused (key lending); the agent reports the handshake and a
supervisor sees fay connected; after fay revokes the device the agent removes the
peer within one sync interval and the tunnel no longer carries the request.

The kernel needs no WireGuard module (wireguard-go is userspace); the test needs
root, ``ip netns`` and /dev/net/tun, and skips with the reason printed otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.helpers import REPO, clean_env, stop_process, tail
from vpn_gateway.keys import generate_key_pair, public_key_of

pytestmark = pytest.mark.slow

GW_NS, CL_NS = "gdvpn-gw", "gdvpn-cl"
GW_IF, CL_IF = "wgd-gw", "wgd-cl"
GW_VETH, CL_VETH = "gdvpn-vgw", "gdvpn-vcl"
GW_OUTER, CL_OUTER = "172.31.231.1", "172.31.231.2"
POOL, GW_TUNNEL = "10.99.0.0/24", "10.99.0.1"
PORT = 8431
LISTEN_PORT = 51820
SYNC_INTERVAL = 2
PYTHON = sys.executable
WG_SOCKETS = Path("/var/run/wireguard")


def run(*argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60, **kwargs)


def in_ns(ns: str, *argv: str, **kwargs) -> subprocess.CompletedProcess:
    return run("ip", "netns", "exec", ns, *argv, **kwargs)


def why_no_namespaces() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "wg", "wg-quick", "wireguard-go"):
        if shutil.which(tool) is None:
            return (
                f"{tool} is not installed (apt-get install wireguard-go wireguard-tools iproute2)"
            )
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing (wireguard-go needs a TUN device)"
    probe = "gdvpn-probe"
    made = run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    return None


# The HTTP client run inside a namespace: prints [status, body] or ["error", reason].
HTTP_CLIENT = r"""
import json, sys, urllib.error, urllib.request
method, url, token, body, timeout = sys.argv[1:6]
request = urllib.request.Request(url, method=method, data=body.encode() if body else None)
if body:
    request.add_header("Content-Type", "application/json")
if token:
    request.add_header("Authorization", "Bearer " + token)
try:
    with urllib.request.urlopen(request, timeout=float(timeout)) as response:
        print(json.dumps([response.status, json.loads(response.read() or b"null")]))
except urllib.error.HTTPError as exc:
    print(json.dumps([exc.code, json.loads(exc.read() or b"null")]))
except Exception as exc:
    print(json.dumps(["error", repr(exc)]))
"""


def ns_http(ns, method, url, token="", body=None, timeout=5.0):
    out = in_ns(
        ns, PYTHON, "-c", HTTP_CLIENT, method, url, token,
        json.dumps(body) if body is not None else "", str(timeout),
    )  # fmt: skip
    return json.loads(out.stdout)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def gateway_peers() -> list[str]:
    return in_ns(GW_NS, "wg", "show", GW_IF, "peers").stdout.split()


def wg_state() -> str:
    """Both interfaces as ``wg show`` sees them (for failure messages)."""
    return "\n".join(in_ns(ns, "wg", "show", check=False).stdout for ns in (GW_NS, CL_NS))


def cleanup(processes: list[subprocess.Popen]) -> None:
    for proc in reversed(processes):
        stop_process(proc, timeout=10)
    for ns in (GW_NS, CL_NS):
        run("ip", "netns", "del", ns, check=False)
    for name in (GW_IF, CL_IF):
        with contextlib.suppress(FileNotFoundError):
            (WG_SOCKETS / f"{name}.sock").unlink()


def start_wireguard(ns: str, name: str, log: Path, processes: list) -> None:
    env = {**os.environ, "LOG_LEVEL": "error"}
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, "wireguard-go", "-f", name],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    processes.append(proc)
    wait_for(lambda: (WG_SOCKETS / f"{name}.sock").exists(), 10, f"{name}'s control socket")


@pytest.fixture
def namespaces():
    reason = why_no_namespaces()
    if reason:
        print(f"SKIP tunnel test: {reason}")
        pytest.skip(reason)
    processes: list[subprocess.Popen] = []
    cleanup(processes)  # a previous run that was killed may have left them
    try:
        run("ip", "netns", "add", GW_NS)
        run("ip", "netns", "add", CL_NS)
        for ns in (GW_NS, CL_NS):
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "link", "add", GW_VETH, "netns", GW_NS, "type", "veth", "peer", "name",
            CL_VETH, "netns", CL_NS)  # fmt: skip
        run("ip", "-n", GW_NS, "addr", "add", f"{GW_OUTER}/30", "dev", GW_VETH)
        run("ip", "-n", CL_NS, "addr", "add", f"{CL_OUTER}/30", "dev", CL_VETH)
        run("ip", "-n", GW_NS, "link", "set", GW_VETH, "up")
        run("ip", "-n", CL_NS, "link", "set", CL_VETH, "up")
        yield processes
    finally:
        cleanup(processes)


def test_enrol_connect_attribute_and_revoke_through_real_tunnels(namespaces, tmp_path):
    processes = namespaces
    gw_private, gw_public = generate_key_pair()
    env = clean_env(
        DJANGO_SETTINGS_MODULE="api.settings",
        GOVDESK_MODE="development",
        GOVDESK_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="memory://",
        CELERY_TASK_ALWAYS_EAGER="true",
        ALLOWED_HOSTS=f"127.0.0.1,{GW_TUNNEL}",
        GOVDESK_ALLOWED_NETWORKS=f"127.0.0.0/8,{POOL}",
        GOVDESK_VPN_POOL=POOL,
        GOVDESK_VPN_ENDPOINT=f"{GW_OUTER}:{LISTEN_PORT}",
        GOVDESK_VPN_SERVER_PUBLIC_KEY=gw_public,
        GOVDESK_VPN_CLIENT_ROUTES=POOL,
        GOVDESK_VPN_KEEPALIVE_SECONDS="5",
        PYTHONPATH=str(REPO),
    )

    # The database: migrated, then seeded with the people, the device and the agent.
    migrate = run(PYTHON, "manage.py", "migrate", "--noinput", cwd=REPO, env=env, check=False)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    seeded = run(PYTHON, "tests/vpn_gateway/tunnel_setup.py", cwd=REPO, env=env, check=False)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    seed = json.loads(seeded.stdout)
    tokens = seed["tokens"]

    # The gateway: wireguard-go with the gateway key, the API and (below) the agent.
    start_wireguard(GW_NS, GW_IF, tmp_path / "wg-gw.log", processes)
    key_file = tmp_path / "gw.key"
    key_file.write_text(gw_private)
    key_file.chmod(0o600)
    in_ns(GW_NS, "wg", "set", GW_IF, "private-key", str(key_file), "listen-port", str(LISTEN_PORT))
    run("ip", "-n", GW_NS, "addr", "add", f"{GW_TUNNEL}/24", "dev", GW_IF)
    run("ip", "-n", GW_NS, "link", "set", GW_IF, "up")

    api_log = tmp_path / "api.log"
    api = subprocess.Popen(
        ["ip", "netns", "exec", GW_NS, PYTHON, "-m", "gunicorn", "api.wsgi:application",
         f"--bind=0.0.0.0:{PORT}", "--worker-class=gthread", "--threads=4", "--workers=1",
         "--no-control-socket", "--access-logfile=-"],
        cwd=REPO, env=env, stdout=api_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    processes.append(api)
    local = f"http://127.0.0.1:{PORT}/api/v1"
    wait_for(
        lambda: api.poll() is None
        and ns_http(GW_NS, "GET", f"{local}/health/", timeout=2)[0] == 200,
        60, "the API in the gateway namespace",
    )  # fmt: skip

    # fay fetches her config once (the server makes the key pair).
    status, fetched = ns_http(GW_NS, "POST", f"{local}/vpn/devices/{seed['device_id']}/config/",
                              tokens["fay"], {})  # fmt: skip
    assert status == 200, fetched
    config = fetched["config"]
    assert fetched["private_key_included"] is True
    private = next(line.split(" = ", 1)[1] for line in config.splitlines()
                   if line.startswith("PrivateKey = "))  # fmt: skip
    fay_public = public_key_of(private)

    credential_file = tmp_path / "agent.credential"
    credential_file.write_text(seed["credential"] + "\n")
    credential_file.chmod(0o600)
    agent_log = tmp_path / "agent.log"
    agent = subprocess.Popen(
        ["ip", "netns", "exec", GW_NS, PYTHON, "-m", "vpn_gateway", "agent",
         "--api", f"http://127.0.0.1:{PORT}", "--credential-file", str(credential_file),
         "--interface", GW_IF, "--interval", str(SYNC_INTERVAL),
         "--state-dir", str(tmp_path / "agent-state"), "--insecure-loopback"],
        cwd=REPO, env=env, stdout=agent_log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    processes.append(agent)
    try:
        wait_for(lambda: gateway_peers() == [fay_public], 20, "the agent to apply fay's peer")
    except AssertionError:
        raise AssertionError("agent log:\n" + tail(agent_log)) from None

    # The phone: wireguard-go configured from the fetched config, through wg-quick strip.
    start_wireguard(CL_NS, CL_IF, tmp_path / "wg-cl.log", processes)
    conf = tmp_path / f"{CL_IF}.conf"
    conf.write_text(config)
    conf.chmod(0o600)
    stripped = tmp_path / "client.stripped"
    stripped.write_text(run("wg-quick", "strip", str(conf)).stdout)
    in_ns(CL_NS, "wg", "setconf", CL_IF, str(stripped))
    address = next(line.split(" = ", 1)[1] for line in config.splitlines()
                   if line.startswith("Address = "))  # fmt: skip
    assert address == f"{seed['address']}/32"
    run("ip", "-n", CL_NS, "addr", "add", address, "dev", CL_IF)
    run("ip", "-n", CL_NS, "link", "set", CL_IF, "up")
    run("ip", "-n", CL_NS, "route", "add", POOL, "dev", CL_IF)

    # Through the tunnel: attributed to fay's device.
    remote = f"http://{GW_TUNNEL}:{PORT}/api/v1"
    status, me = ns_http(CL_NS, "GET", f"{remote}/vpn/whoami/", tokens["fay"], timeout=10)
    assert status == 200, (me, tail(api_log), wg_state())
    assert me == {"client_address": seed["address"], "via_vpn": True,
                  "device_id": seed["device_id"], "user_id": seed["fay"]}  # fmt: skip

    # Key lending: gus's token from fay's device is refused.
    status, lent = ns_http(CL_NS, "GET", f"{remote}/vpn/whoami/", tokens["gus"])
    assert status == 403 and lent["error"]["code"] == "vpn_peer_mismatch"

    # The agent reports the handshake; a supervisor sees fay connected.
    def fay_connected():
        status, page = ns_http(GW_NS, "GET", f"{local}/vpn/connections/?connected=true",
                               tokens["sam"])  # fmt: skip
        assert status == 200, page
        return [row for row in page["results"] if row["device_id"] == seed["device_id"]]

    (row,) = wait_for(fay_connected, 15, "the agent's status report of fay's handshake")
    assert row["connected"] and row["connected_since"] and row["rx_bytes"] > 0
    assert row["endpoint"].startswith(CL_OUTER)

    # Lost phone: fay revokes it; one sync later the gateway has no peer for it.
    status, revoked = ns_http(GW_NS, "POST", f"{local}/vpn/devices/{seed['device_id']}/revoke/",
                              tokens["fay"], {"reason": "手机丢失"})  # fmt: skip
    assert status == 200 and revoked["status"] == "revoked"
    started = time.monotonic()
    wait_for(lambda: gateway_peers() == [], SYNC_INTERVAL + 5, "the agent to remove the peer")
    assert time.monotonic() - started <= SYNC_INTERVAL + 2  # within one interval (+ request time)
    status, reason = ns_http(CL_NS, "GET", f"{remote}/vpn/whoami/", tokens["fay"], timeout=3)
    assert status == "error", (status, reason)  # no answer: the tunnel carries nothing now
    assert agent.poll() is None and api.poll() is None
    assert seed["credential"] not in agent_log.read_text()
