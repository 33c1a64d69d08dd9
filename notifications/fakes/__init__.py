"""Loopback fakes of the delivery providers, speaking their real protocols
(docs/notifications.md#demo-fakes).

Plain Python, so the tests, the demo (``python -m notifications.fakes serve``) and
the bench share them: FCM v1 (OAuth2 token endpoint + ``messages:send``), Aliyun and
Tencent Cloud SMS and the DingTalk robot (each checking the request signature), and a
Web Push receiver that verifies VAPID and decrypts the aes128gcm payload. They accept
anything signed with the keys they were given, so they listen on loopback only.
"""

from notifications.fakes.fcm import FcmFake, fcm_error
from notifications.fakes.gateways import FakeCredentials, FakeGateways, running
from notifications.fakes.server import FakeServer, Journal, Received, Router, serve
from notifications.fakes.sms import aliyun_sms, dingtalk_robot, tencent_sms
from notifications.fakes.webpush_receiver import WebPushReceiver

__all__ = [
    "FakeCredentials",
    "FakeGateways",
    "FakeServer",
    "FcmFake",
    "Journal",
    "Received",
    "Router",
    "WebPushReceiver",
    "aliyun_sms",
    "dingtalk_robot",
    "fcm_error",
    "running",
    "serve",
    "tencent_sms",
]
