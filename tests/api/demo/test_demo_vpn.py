"""The demo's VPN gateway (docs/vpn.md#the-demo-gateway): with what ``make demo``
configures and nothing else, a demo user's phone is requested, approved, its config
downloaded (wg-quick accepts it) with its QR code — and without it the download is
409 vpn_not_configured."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from api.accounts.models import User
from tests.personas import client_for
from vpn_gateway.keys import is_valid_key, public_key_of

pytestmark = pytest.mark.django_db
DEMO = Path(__file__).resolve().parents[3] / "scripts" / "demo.py"


def _load_demo_module():
    spec = importlib.util.spec_from_file_location("govdesk_demo_launcher", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


demo = _load_demo_module()


def gateway_env(settings, var_dir: Path) -> dict[str, str]:
    return demo.demo_vpn_gateway(
        var_dir, {}, settings.GOVDESK_VPN_POOL, settings.GOVDESK_VPN_GATEWAY_ADDRESS
    )


def enrol(settings) -> tuple[object, int]:
    """office_staff requests a phone, office_admin (their unit admin) approves it."""
    call_command("seed_demo", stdout=io.StringIO())
    staff = client_for(User.objects.get(username="office_staff"))
    admin = client_for(User.objects.get(username="office_admin"))
    response = staff.post("/api/v1/vpn/devices/", {"name": "赵丽的手机"}, format="json")
    assert response.status_code == 201, response.content
    device = response.json()["id"]
    response = admin.post(f"/api/v1/vpn/devices/{device}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    return staff, device


def test_the_demo_gateway_is_made_once_and_kept(settings, tmp_path):
    env = gateway_env(settings, tmp_path)
    assert env["GOVDESK_VPN_ENDPOINT"] == "127.0.0.1:51820"
    private, public = (tmp_path / "vpn-demo" / "wg0.keys").read_text().split()
    assert is_valid_key(private) and public_key_of(private) == public
    assert env["GOVDESK_VPN_SERVER_PUBLIC_KEY"] == public
    assert (tmp_path / "vpn-demo" / "wg0.keys").stat().st_mode & 0o077 == 0
    conf = (tmp_path / "vpn-demo" / "wg0.conf").read_text()
    assert "Address = 10.99.0.1/16" in conf and f"PrivateKey = {private}" in conf
    assert gateway_env(settings, tmp_path) == env  # the next start keeps the key
    # A gateway of one's own (the variables set) is left alone.
    mine = {"GOVDESK_VPN_ENDPOINT": "vpn.example:51820"}
    assert demo.demo_vpn_gateway(tmp_path / "other", mine, "10.99.0.0/16", "") == {}
    assert not (tmp_path / "other").exists()


def test_without_the_demo_gateway_the_download_is_refused(settings):
    settings.GOVDESK_VPN_ENDPOINT = ""
    settings.GOVDESK_VPN_SERVER_PUBLIC_KEY = ""
    staff, device = enrol(settings)
    response = staff.post(f"/api/v1/vpn/devices/{device}/config/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "vpn_not_configured"


@pytest.mark.skipif(
    shutil.which("wg-quick") is None, reason="wireguard-tools (wg-quick) is not installed"
)
def test_request_approve_download_and_qr_on_the_demo(settings, tmp_path):
    for name, value in gateway_env(settings, tmp_path / "var").items():
        setattr(settings, name, value)
    staff, device = enrol(settings)
    response = staff.post(f"/api/v1/vpn/devices/{device}/config/", {}, format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    config = answer["config"]
    assert answer["private_key_included"] is True
    assert answer["qr_png"].startswith("data:image/png;base64,")
    assert "Endpoint = 127.0.0.1:51820" in config
    assert f"PublicKey = {settings.GOVDESK_VPN_SERVER_PUBLIC_KEY}" in config
    path = tmp_path / "wgdemo.conf"
    path.write_text(config)
    stripped = subprocess.run(
        ["wg-quick", "strip", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert stripped.returncode == 0, stripped.stderr
    assert "PrivateKey = " in stripped.stdout and "Endpoint = 127.0.0.1:51820" in stripped.stdout
