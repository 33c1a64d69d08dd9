"""The 首页 tab (portal) in Debian's Chromium at a phone viewport, against a real server.

Docs: docs/portal.md#pwa. The demo seeds a must-read notice of 市政府办公室 that half of
its people have read; office_staff has not. Signed in, the 首页 tab shows the banner,
the to-do block and the news of the followed channels; tapping the banner opens the
reader, one tap marks it read (checked through the API: 1 more read), the banner is gone
on return; search for 防汛 lists the demo's flood-control notice.
"""

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


def test_home_tab_banner_reader_and_search(server, phone):
    staff = Person(server.base, "office_staff")
    home = staff.get("/api/v1/portal/")
    assert home["must_read"]["count"] == 1, home["must_read"]
    notice = home["must_read"]["items"][0]
    director = Person(server.base, "director")
    before = director.get(f"/api/v1/posts/{notice['id']}/readers/")

    page = phone.new_page()
    sign_in(page, server.base, "office_staff")
    page.get_by_role("navigation").get_by_text("首页").tap()
    page.get_by_test_id("home").wait_for()
    page.get_by_test_id("block-todo").wait_for()
    page.get_by_test_id("block-news").get_by_text("通知公告").wait_for()
    banner = page.get_by_test_id("must-read-banner")
    banner.get_by_text("您有 1 条必读通知未读").wait_for()
    banner.tap()
    page.get_by_test_id("post-reader").get_by_text(notice["title"]).wait_for()
    page.get_by_test_id("mark-read").tap()
    page.get_by_test_id("read-done").wait_for()

    after = director.get(f"/api/v1/posts/{notice['id']}/readers/")
    assert after["read"] == before["read"] + 1
    assert staff.get("/api/v1/portal/")["must_read"]["count"] == 0

    page.go_back()
    page.get_by_test_id("block-news").wait_for()
    assert page.get_by_test_id("must-read-banner").count() == 0

    page.goto(server.base + "/#/search")
    page.get_by_role("searchbox").fill("防汛")
    page.keyboard.press("Enter")
    page.get_by_test_id("search").get_by_text("关于做好2026年防汛抗旱工作的通知").wait_for()
