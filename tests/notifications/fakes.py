"""Moved to ``notifications.fakes`` (plain Python, so the demo can run them too);
this re-export keeps older imports working. Docs: docs/notifications.md#demo-fakes."""

from notifications.fakes.server import FakeServer, Handler, Journal, Received, Router, serve
from notifications.fakes.sms import aliyun_sms, dingtalk_robot, tencent_sms

__all__ = [
    "FakeServer",
    "Handler",
    "Journal",
    "Received",
    "Router",
    "aliyun_sms",
    "dingtalk_robot",
    "serve",
    "tencent_sms",
]
