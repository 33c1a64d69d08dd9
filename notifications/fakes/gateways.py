"""All provider fakes behind one loopback server, for the demo and the bench
(docs/notifications.md#demo-fakes).

Mount points below the server's URL::

    fcm/token                                   OAuth2 token endpoint (token_uri)
    fcm/v1/projects/<project>/messages:send     FCM v1 send
    aliyun/                                     Aliyun dysmsapi SendSms
    tencent/                                    Tencent Cloud SMS SendSms
    dingtalk/                                   DingTalk robot (加签)
    webpush/subscriptions                       POST: mint a browser subscription
    webpush/push/<id>                           Web Push endpoint of that subscription
    _received?since=<seq>&service=<name>        GET: what arrived, JSON

The credentials the fakes check live in a directory (``init``): the FCM service
account JSON (its RSA key; ``token_uri`` pointing here), the SMS providers' keys and
the demo's VAPID key pair. ``init`` keeps existing keys and only rewrites the URLs,
so a restarted demo keeps working with what it configured before.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifications.channels.webpush import generate_vapid_keys
from notifications.fakes.fcm import FcmFake, new_service_account
from notifications.fakes.server import FakeServer, Journal, Received, Reply, Router, serve
from notifications.fakes.sms import aliyun_sms, dingtalk_robot, tencent_sms
from notifications.fakes.webpush_receiver import WebPushReceiver

SERVICE_ACCOUNT_FILE = "fcm-service-account.json"
CREDENTIALS_FILE = "credentials.json"
VAPID_PRIVATE_FILE = "vapid-private-key.txt"
VAPID_PUBLIC_FILE = "vapid-public-key.txt"
DEFAULT_VAPID_SUBJECT = "mailto:it@xincheng.gov.example"


@dataclass
class FakeCredentials:
    service_account: dict[str, Any]
    aliyun_access_key_id: str
    aliyun_access_key_secret: str
    tencent_secret_id: str
    tencent_secret_key: str
    tencent_sdk_app_id: str
    dingtalk_secret: str
    vapid_private_key: str
    vapid_public_key: str

    @classmethod
    def generate(cls, base_url: str) -> FakeCredentials:
        private, public = generate_vapid_keys()
        return cls(
            service_account=new_service_account(base_url + "fcm/token"),
            aliyun_access_key_id="LTAIdemo" + secrets.token_hex(6),
            aliyun_access_key_secret=secrets.token_urlsafe(24),
            tencent_secret_id="AKIDdemo" + secrets.token_hex(8),
            tencent_secret_key=secrets.token_urlsafe(24),
            tencent_sdk_app_id="1400000000",
            dingtalk_secret="SEC" + secrets.token_hex(16),
            vapid_private_key=private,
            vapid_public_key=public,
        )

    def urls(self, base_url: str) -> dict[str, str]:
        """Where each client points (the GOVDESK_* settings the demo sets)."""
        return {
            "fcm_token_uri": base_url + "fcm/token",
            "fcm_url": base_url + "fcm/v1/projects/{project_id}/messages:send",
            "aliyun_endpoint": base_url + "aliyun/",
            "tencent_endpoint": base_url + "tencent/",
            "dingtalk_webhook": base_url + "dingtalk/robot/send?access_token=demo",
            "webpush_subscriptions": base_url + "webpush/subscriptions",
            "received": base_url + "_received",
        }


def _write_private(path: Path, text: str) -> None:
    """Writes a secret readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def init_directory(directory: Path, base_url: str) -> FakeCredentials:
    """Creates (or re-points) the fakes' credentials under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    sa_path = directory / SERVICE_ACCOUNT_FILE
    cred_path = directory / CREDENTIALS_FILE
    if sa_path.exists() and cred_path.exists() and (directory / VAPID_PRIVATE_FILE).exists():
        creds = load_directory(directory)
        creds.service_account["token_uri"] = base_url + "fcm/token"
    else:
        creds = FakeCredentials.generate(base_url)
    _write_private(sa_path, json.dumps(creds.service_account, indent=2))
    _write_private(
        cred_path,
        json.dumps(
            {
                "aliyun": {
                    "access_key_id": creds.aliyun_access_key_id,
                    "access_key_secret": creds.aliyun_access_key_secret,
                },
                "tencent": {
                    "secret_id": creds.tencent_secret_id,
                    "secret_key": creds.tencent_secret_key,
                    "sdk_app_id": creds.tencent_sdk_app_id,
                },
                "dingtalk": {"secret": creds.dingtalk_secret},
                "urls": creds.urls(base_url),
            },
            indent=2,
        ),
    )
    _write_private(directory / VAPID_PRIVATE_FILE, creds.vapid_private_key + "\n")
    (directory / VAPID_PUBLIC_FILE).write_text(creds.vapid_public_key + "\n", "utf-8")
    return creds


def load_directory(directory: Path) -> FakeCredentials:
    sa = json.loads((directory / SERVICE_ACCOUNT_FILE).read_text("utf-8"))
    cred = json.loads((directory / CREDENTIALS_FILE).read_text("utf-8"))
    return FakeCredentials(
        service_account=sa,
        aliyun_access_key_id=cred["aliyun"]["access_key_id"],
        aliyun_access_key_secret=cred["aliyun"]["access_key_secret"],
        tencent_secret_id=cred["tencent"]["secret_id"],
        tencent_secret_key=cred["tencent"]["secret_key"],
        tencent_sdk_app_id=cred["tencent"]["sdk_app_id"],
        dingtalk_secret=cred["dingtalk"]["secret"],
        vapid_private_key=(directory / VAPID_PRIVATE_FILE).read_text("utf-8").strip(),
        vapid_public_key=(directory / VAPID_PUBLIC_FILE).read_text("utf-8").strip(),
    )


class FakeGateways:
    """The handler of the combined server (see the module docstring)."""

    def __init__(self, creds: FakeCredentials, journal: Journal | None = None) -> None:
        self.creds = creds
        self.journal = journal or Journal()
        self.fcm = FcmFake.for_service_account(creds.service_account, journal=self.journal)
        self.webpush = WebPushReceiver(journal=self.journal)
        self.router = Router(
            {
                "/fcm/": self.fcm,
                "/aliyun/": aliyun_sms(
                    creds.aliyun_access_key_id, creds.aliyun_access_key_secret,
                    journal=self.journal,
                ),
                "/tencent/": tencent_sms(
                    creds.tencent_secret_id, creds.tencent_secret_key, journal=self.journal
                ),
                "/dingtalk/": dingtalk_robot(creds.dingtalk_secret, journal=self.journal),
                "/webpush/": self.webpush,
            },
            fallback=self._meta,
        )  # fmt: skip
        self.url = ""

    def mount(self, base_url: str) -> None:
        self.url = base_url
        self.fcm.url = base_url + "fcm/"
        self.webpush.url = base_url + "webpush/"

    def __call__(self, req: Received) -> Reply:
        return self.router(req)

    def _meta(self, req: Received) -> Reply:
        if req.method == "GET" and req.path == "/_received":
            try:
                since = int(req.query.get("since") or 0)
            except ValueError:
                return 400, {"error": "since must be an integer"}
            lines = self.journal.since(since, req.query.get("service") or None)
            return 200, {"received": lines, "count": len(self.journal)}
        return 404, {"error": "no fake mounted at " + req.path}


@contextmanager
def running(
    creds: FakeCredentials | None = None, port: int = 0
) -> Iterator[tuple[FakeGateways, FakeServer]]:
    """Runs every fake on one loopback server in a thread. Without ``creds``, fresh
    ones are generated (their token_uri fixed up once the port is known)."""
    creds = creds or FakeCredentials.generate("http://127.0.0.1:0/")
    gateways = FakeGateways(creds)
    with serve(gateways, port=port) as server:
        gateways.mount(server.url)
        creds.service_account["token_uri"] = server.url + "fcm/token"
        yield gateways, server
