"""Helpers for the identity tests (docs/identity.md)."""

from __future__ import annotations

import base64
import json
import time

import pyotp
from django.utils import timezone
from rest_framework.test import APIClient

from tests.personas import PASSWORD

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
VERIFY = "/api/v1/auth/token/verify/"
LOGOUT = "/api/v1/auth/logout/"
PASSWORD_CHANGE = "/api/v1/auth/password/change/"
TOTP_SETUP = "/api/v1/auth/totp/setup/"
TOTP_CONFIRM = "/api/v1/auth/totp/confirm/"
TOTP_DISABLE = "/api/v1/auth/totp/disable/"
ME = "/api/v1/me/"
SESSIONS = "/api/v1/sessions/"
REVOKE_ALL = "/api/v1/sessions/revoke-all/"

NEW_PASSWORD = "N3w!Sturdy-Pass"


def revoke_url(session_id) -> str:
    return f"/api/v1/sessions/{session_id}/revoke/"


def post(client: APIClient, url: str, body=None, **extra):
    return client.post(url, data=body if body is not None else {}, format="json", **extra)


def login(client: APIClient, username: str, password: str = PASSWORD, **fields):
    """Upper-case keyword arguments (HTTP_*, REMOTE_ADDR) go to the request, the
    others into the body."""
    meta = {k: v for k, v in fields.items() if k.isupper()}
    body = {k: v for k, v in fields.items() if not k.isupper()}
    return post(client, TOKEN, {"username": username, "password": password, **body}, **meta)


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def error_of(response) -> dict:
    return response.json()["error"]


def claims(token: str) -> dict:
    """The payload of a JWT, without verifying it (for assertions only)."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def totp_code(secret: str, steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(timezone.now()) + steps)


def wait_for_fresh_time_step(margin: float = 3.0) -> None:
    """Sleep past a TOTP step boundary that is less than ``margin`` seconds away, so
    codes computed by a test stay current while it runs."""
    remaining = 30 - time.time() % 30
    if remaining < margin:
        time.sleep(remaining + 0.05)
