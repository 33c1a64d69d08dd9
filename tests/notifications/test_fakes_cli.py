"""``python -m notifications.fakes``: one loopback server hosting every fake, as the
demo runs it (docs/notifications.md#demo-fakes)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from notifications.channels import Message, Urgency
from notifications.channels.fcm import FcmChannel
from notifications.channels.sms_aliyun import AliyunSmsChannel
from notifications.channels.sms_tencent import TencentSmsChannel
from notifications.channels.webpush import WebPushChannel
from notifications.fakes.gateways import init_directory, load_directory, running

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def msg(recipient: str, key: str) -> Message:
    return Message(recipient=recipient, title="新待办", body="请审批", idempotency_key=key,
                   data={"task_id": "7"}, urgency=Urgency.HIGH)  # fmt: skip


def test_init_keeps_keys_and_repoints_urls(tmp_path):
    first = init_directory(tmp_path, "http://127.0.0.1:1111/")
    again = init_directory(tmp_path, "http://127.0.0.1:2222/")
    assert again.service_account["private_key"] == first.service_account["private_key"]
    assert again.vapid_private_key == first.vapid_private_key
    assert again.service_account["token_uri"] == "http://127.0.0.1:2222/fcm/token"
    assert load_directory(tmp_path).service_account["token_uri"].endswith(":2222/fcm/token")
    assert (tmp_path / "credentials.json").stat().st_mode & 0o077 == 0


@pytest.mark.slow
def test_serve_hosts_every_fake_and_lists_what_arrived(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "notifications.fakes", "serve", "--dir", str(tmp_path),
         "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert get_json(base + "_received")["received"] == []
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        creds = load_directory(tmp_path)
        urls = creds.urls(base)
        fcm = FcmChannel(creds.service_account, fcm_url=urls["fcm_url"])
        try:
            [r_fcm] = fcm.send([msg("device-token-1", "k-fcm")])
        finally:
            fcm.close()
        [r_ali] = AliyunSmsChannel(
            creds.aliyun_access_key_id, creds.aliyun_access_key_secret, "新城市政务",
            "SMS_1", endpoint=urls["aliyun_endpoint"],
        ).send([msg("13800138000", "k-ali")])  # fmt: skip
        [r_tc] = TencentSmsChannel(
            creds.tencent_secret_id, creds.tencent_secret_key, creds.tencent_sdk_app_id,
            "新城市政务", "2001", param_names=("task_id",), endpoint=urls["tencent_endpoint"],
        ).send([msg("13900139000", "k-tc")])  # fmt: skip
        sub = post_json(
            urls["webpush_subscriptions"], {"application_server_key": creds.vapid_public_key}
        )
        push = WebPushChannel(creds.vapid_private_key, "mailto:it@example.org")
        [r_wp] = push.send([msg(json.dumps(sub), "k-wp")])
        push.close()
        assert all(r.ok for r in (r_fcm, r_ali, r_tc, r_wp)), (r_fcm, r_ali, r_tc, r_wp)

        lines = get_json(base + "_received")["received"]
        by_service = {line["service"]: line for line in lines}
        assert set(by_service) == {"fcm", "aliyun_sms", "tencent_sms", "webpush"}
        assert by_service["fcm"]["recipient"] == "device-token-1"
        assert by_service["fcm"]["data"]["idempotency_key"] == "k-fcm"
        assert by_service["aliyun_sms"]["recipient"] == "13800138000"
        assert by_service["aliyun_sms"]["out_id"] == "k-ali"
        assert by_service["tencent_sms"]["recipient"] == "+8613900139000"
        assert by_service["webpush"]["payload"]["title"] == "新待办"  # decrypted
        later = get_json(base + f"_received?since={by_service['aliyun_sms']['seq']}")
        assert [x["seq"] for x in later["received"]] == [
            x["seq"] for x in lines if x["seq"] > by_service["aliyun_sms"]["seq"]
        ]
        assert get_json(base + "_received?service=fcm")["received"] == [by_service["fcm"]]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    text = out.decode()
    assert f"fakes listening on {base}" in text and "webpush → subscription" in text


def test_wrong_sms_secret_is_refused_by_the_combined_server():
    with running() as (gateways, server):
        creds = gateways.creds
        [r] = AliyunSmsChannel(
            creds.aliyun_access_key_id, "not-the-secret", "新城市政务", "SMS_1",
            endpoint=server.url + "aliyun/",
        ).send([msg("13800138000", "k")])  # fmt: skip
        assert r.permanent and r.error_code == "SignatureDoesNotMatch"
        assert len(gateways.journal) == 0


def test_fakes_refuse_to_listen_beyond_loopback():
    from notifications.fakes.server import make_server

    with pytest.raises(ValueError, match="loopback"):
        make_server(lambda req: (200, {}), host="0.0.0.0")


@pytest.mark.slow
def test_serve_runs_the_fake_smsc_and_logs_the_sms_it_reassembled(tmp_path):
    from notifications.channels.sms_smpp import SmppSmsChannel
    from notifications.fakes.__main__ import smpp_account

    port, smpp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "notifications.fakes", "serve", "--dir", str(tmp_path),
         "--port", str(port), "--smpp-port", str(smpp_port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    text = "关于年终考核的通知" * 10  # 90 characters: two UCS-2 parts
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get_json(base + "_received")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        account = smpp_account(tmp_path)
        channel = SmppSmsChannel(
            "127.0.0.1", smpp_port, account["system_id"], account["password"], rate=0
        )
        [result] = channel.send([Message("13800138000", text, "", "k-smpp")])
        channel.close()
        assert result.ok and len(result.provider_part_ids) == 2
        [line] = get_json(base + "_received?service=smsc")["received"]
        assert line["recipient"] == "13800138000" and line["text"] == text
        assert line["parts"] == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert f"smsc → 13800138000: '{text}' (2 part(s), UCS-2" in out.decode()
