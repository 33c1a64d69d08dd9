"""督查督办 and 催办 on the phone: a supervisor sees the items in scope reddest first with
their lights and urges the responsible unit; the unit's leader sees its items but no
催办; the sender of an open step urges its holder from the task's trail.

Docs: docs/pwa.md#supervision. Debian's Chromium at a phone viewport against a real
server (tests/pwa/conftest.py); outcomes checked through the API.
"""

from __future__ import annotations

import pytest

from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM, PHONE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]


def test_a_supervisor_sees_lights_reddest_first_and_urges_the_unit(server, phone):
    supervisor = Person(server.base, "supervisor")
    items = supervisor.get("/api/v1/supervision/items/?state=open")["results"]
    red = [i for i in items if i["light"] == "red"]
    assert red and len(items) > len(red)  # the demo city has a red and a green item
    page = phone.new_page()
    sign_in(page, server.base, "supervisor")
    page.goto(server.base + "/#/supervision")
    rows = page.locator("[data-testid^='item-']")
    rows.first.wait_for()
    assert rows.count() == len(items)
    assert rows.first.get_attribute("data-testid") == f"item-{red[0]['id']}"
    assert "红灯" in rows.first.inner_text() and "Red" not in page.content()
    page.get_by_test_id("filter-red").tap()
    count_rows = "n => document.querySelectorAll(\"[data-testid^='item-']\").length === n"
    page.wait_for_function(count_rows, arg=len(red))

    rows.first.tap()
    page.get_by_test_id("supervision-urge").tap()
    page.get_by_test_id("urge-message").locator("textarea").fill("请本周内报送整改进展。")
    page.get_by_test_id("urge-send").tap()
    page.get_by_text("已催办").wait_for()
    owner = Person(server.base, "b_leader")
    notes = owner.get("/api/v1/notifications/?page_size=50")["results"]
    assert any(red[0]["title"] in n["title"] and "请本周内报送整改进展" in n["body"] for n in notes)


def test_the_units_leader_sees_its_items_without_an_urge_button(server, phone):
    page = phone.new_page()
    sign_in(page, server.base, "b_leader")
    page.goto(server.base + "/#/me")
    page.get_by_test_id("supervision-entry").tap()
    row = page.locator("[data-testid^='item-']").first
    row.wait_for()
    row.tap()
    # The heading, not the text: an item without reports also says 尚无进展报告.
    page.get_by_role("heading", name="进展报告", exact=True).wait_for()
    assert page.get_by_test_id("supervision-urge").count() == 0


def test_the_sender_urges_an_open_step_from_the_trail(server, phone):
    director = Person(server.base, "director")
    document = server.documents[2]
    done = director.task_for(document, state="done")
    assert done is not None
    leader2 = Person(server.base, "leader2")
    held = leader2.task_for(document)
    assert held is not None
    page = phone.new_page()
    sign_in(page, server.base, "director")
    page.goto(server.base + f"/#/tasks/{done['id']}")
    page.get_by_test_id(f"urge-{held['id']}").tap()
    page.get_by_test_id("task-urge-send").tap()
    page.get_by_text("已催办").wait_for()
    urges = leader2.get(f"/api/v1/tasks/{held['id']}/urges/")["results"]
    assert [u["by"]["id"] for u in urges] == [director.id]
    # The holder of a step sees no 催办 on their own open step.
    holder = phone.browser.new_context(**PHONE)
    try:
        page2 = holder.new_page()
        sign_in(page2, server.base, "leader2")
        page2.goto(server.base + f"/#/tasks/{held['id']}")
        page2.locator(".trail-time").first.wait_for()
        assert page2.get_by_test_id(f"urge-{held['id']}").count() == 0
    finally:
        holder.close()
