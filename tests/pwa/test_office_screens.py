"""邮件, 日程 and 通讯录 in the browser at a phone viewport (docs/mail.md,
docs/personal-office.md): the seeded mail opens and its read receipt reaches the
sender; leader1's schedule shows what the secretary entered; the address book
offers tap-to-call on an office phone."""

from __future__ import annotations

import pytest

from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]


def test_mail_opens_and_the_sender_sees_it_read(server, phone):
    page = phone.new_page()
    sign_in(page, server.base, "director")
    page.goto(server.base + "/#/mail")
    page.get_by_text("本周公文处理情况", exact=True).tap()
    page.get_by_text("主任：本周共收文 42 件").wait_for()
    clerk = Person(server.base, "clerk")
    sent = clerk.get("/api/v1/mail/messages/?folder=sent")["results"]
    first = next(item for item in sent if item["subject"] == "本周公文处理情况")
    readers = clerk.get(f"/api/v1/mail/messages/{first['id']}/receipts/?read=true")["results"]
    assert [r["recipient"]["display_name"] for r in readers] == ["王建国"]


def test_schedule_and_contacts(server, phone):
    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    page.goto(server.base + "/#/me")
    page.get_by_test_id("me-schedule").tap()
    page.get_by_text("市政府常务会议").first.wait_for()
    page.goto(server.base + "/#/contacts")
    page.get_by_role("searchbox").fill("zm")
    page.locator("a[href^='tel:0571']").first.wait_for()
