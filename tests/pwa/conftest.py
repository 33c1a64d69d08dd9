"""Fixtures of the PWA's browser tests. Docs: docs/pwa.md#browser-tests.

One gunicorn server per module (tests/pwa/server.py, its own SQLite database)
with four demo documents (leader1–3 each hold a 会签 task of each); a test module that
needs documents of its own seeds them with ``server.seed_tasks(n)``. One Chromium per
module (a module may launch its own with other flags); every test a fresh phone
context (390×844, touch, is_mobile, zh-CN).
"""

from __future__ import annotations

import pytest

from tests.pwa.server import CHROMIUM, CHROMIUM_ARGS, PHONE, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("pwa-server"))
    try:
        srv.documents = srv.seed_tasks(4)
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(20_000)
    yield context
    context.close()
