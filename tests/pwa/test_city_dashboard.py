"""The leaders' dashboard on the 首页 tab shows the city management figures (数字城管) in
Debian's Chromium at a phone viewport, against a real server with the demo city.

Docs: docs/integrations.md#city-management. The demo seeds the fake's 60 cases; the
mayor (a leader) sees the open and overdue counts the API gives; office_staff (staff)
has no dashboard at all.
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


def test_leader_sees_city_management_figures(server, phone):
    city = Person(server.base, "mayor").get("/api/v1/portal/")["dashboard"]["city_management"]
    assert city["open"] > 0, city
    assert Person(server.base, "office_staff").get("/api/v1/portal/")["dashboard"] is None

    page = phone.new_page()
    sign_in(page, server.base, "mayor")
    page.get_by_role("navigation").get_by_text("首页").tap()
    block = page.get_by_test_id("city-management")
    block.get_by_text("数字城管案件").wait_for()
    block.get_by_text(f"在办 {city['open']} · 超期 {city['overdue']}").wait_for()
    first = city["by_category"][0]
    page.get_by_test_id("block-dashboard").get_by_text(first["category"]).first.wait_for()
