"""Fixtures for the mail tests (docs/mail.md): the personas plus a few more people of
the office, so a unit address reaches several."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.personas import Role, client_for, make_user


@dataclass
class MailWorld:
    org: Any
    p: dict[str, Any]

    def client(self, name: str):
        return client_for(self.p[name])

    def send(self, name: str, key: str | None = None, **body: Any):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        body.setdefault("subject", "测试")
        return self.client(name).post("/api/v1/mail/send/", body, format="json", **headers)


@pytest.fixture
def world(org, personas) -> MailWorld:
    people = dict(personas)
    for name in ("olga", "oscar", "otto"):
        people[name] = make_user(name, org.office, Role.STAFF, display_name=f"{name}同志")
    return MailWorld(org=org, p=people)


def text_file(
    name: str = "通知.txt", content: str = "关于召开防汛工作会议的通知"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/plain")
