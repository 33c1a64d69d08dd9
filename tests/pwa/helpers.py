"""Helpers for the PWA's browser tests: a demo user over the API, signing in on a page.

Docs: docs/pwa.md#browser-tests.
"""

from __future__ import annotations

from tests.deploy.helpers import http

PASSWORD = "GovDesk@2026"  # the demo password (docs/demo.md)


class Person:
    """The API as one demo user, to check the server's side of what the app did."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base.replace("localhost", "127.0.0.1")
        status, body = http(
            "POST", self.base + "/api/v1/auth/token/", {"username": username, "password": PASSWORD}
        )
        assert status == 200, body
        self.headers = {"Authorization": f"Bearer {body['access']}"}
        self.id = body["user"]["id"]

    def get(self, path: str) -> dict:
        status, body = http("GET", self.base + path, headers=self.headers)
        assert status == 200, body
        return body

    def task_for(self, document_id: int, state: str = "todo") -> dict | None:
        for item in self.get(f"/api/v1/tasks/?state={state}&page_size=100")["results"]:
            if item["document"]["id"] == document_id:
                return item
        return None

    def approvals_by_me(self, document_id: int) -> list[dict]:
        entries = self.get(f"/api/v1/documents/{document_id}/trail/")["entries"]
        return [e for e in entries if e["action"] == "approve" and e["actor"]["id"] == self.id]


def sign_in(page, base: str, username: str, button: str = "登录") -> None:
    page.goto(base + "/#/login")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.get_by_role("button", name=button, exact=True).tap()
    page.get_by_role("navigation").wait_for()  # the tab bar: signed in, on 待办


def one_tap_sends_at_once(context) -> None:
    """Switch the one-tap undo window off on this browser context (我的 → 一键同意可撤销:
    关闭) unless a test sets it: for tests that check what a tap sends to the server.
    The window itself is tested in test_leader_phone.py."""
    context.add_init_script(
        "if (localStorage.getItem('govdesk.undoSeconds') === null)"
        " localStorage.setItem('govdesk.undoSeconds', '0')"
    )
