"""Screenshots of the PWA's main screens for README and docs/pwa.md.

Docs: docs/pwa.md#screenshots. Not a test (nothing to assert, and it rewrites files
under docs/): run it with ``make screenshots`` or ``.venv/bin/python -m tests.pwa.screenshots``.
It starts the same throw-away server as the browser tests (tests/pwa/server.py), makes
two demo documents and saves, at 390×844 (device scale 2):
docs/images/pwa-{login,todo,task,approve,notifications,offline}.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.deploy.helpers import REPO
from tests.pwa.server import CHROMIUM, CHROMIUM_ARGS, PHONE, start_server

OUT = REPO / "docs" / "images"
PASSWORD = "GovDesk@2026"


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        print("skipped: /usr/bin/chromium is not installed", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="govdesk-shots-") as tmp:
        server = start_server(Path(tmp) / "var")
        try:
            server.seed_tasks(2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                context = browser.new_context(**PHONE)
                context.set_default_timeout(20_000)
                page = context.new_page()

                def shot(name: str) -> None:
                    page.wait_for_timeout(600)  # toasts and transitions settle
                    page.screenshot(path=str(OUT / f"pwa-{name}.png"))
                    print(f"docs/images/pwa-{name}.png")

                page.goto(server.base + "/#/login")
                page.locator("#login-username").fill("leader1")
                page.locator("#login-password").fill(PASSWORD)
                shot("login")
                page.get_by_role("button", name="登录", exact=True).tap()
                page.locator("li.task").first.wait_for()
                shot("todo")

                page.locator("li.task a").first.tap()
                page.get_by_text("流转记录").wait_for()
                shot("task")
                page.get_by_role("button", name="意见").tap()
                page.locator(".chips").get_by_role("button", name="拟同意", exact=True).tap()
                shot("approve")
                page.go_back()

                page.goto(server.base + "/#/notifications")
                page.wait_for_timeout(1500)
                shot("notifications")

                page.goto(server.base + "/#/todo")
                page.locator("li.task").first.wait_for()
                context.set_offline(True)
                page.locator("li.task").last.get_by_role("button", name="同意").tap()
                page.get_by_text("待发送").first.wait_for()
                page.wait_for_timeout(2500)  # the "queued" toast fades
                shot("offline")
                context.set_offline(False)
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
