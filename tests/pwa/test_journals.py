"""A leader reads the latest journal issue on the phone and writes an instruction (批示).

Docs: docs/submissions.md. Against the PWA test server (seed_demo: 《新城政务信息》 with
three published issues; leader1 is a leader of its editorial office): leader1 signs
in, opens 我的 → 电子刊物, taps the newest issue, reads its first item and writes an
instruction; the server holds exactly that instruction by leader1 on that item.
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


def test_leader_opens_the_issue_and_writes_an_instruction(server, phone):
    api = Person(server.base, "leader1")
    issues = [i for i in api.get("/api/v1/journal-issues/")["results"] if i["state"] == "published"]
    newest = issues[0]
    first = api.get(f"/api/v1/journal-issues/{newest['id']}/")["items"][0]

    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    page.goto(server.base + "/#/me")
    page.get_by_test_id("journals-entry").tap()
    page.get_by_test_id(f"issue-{newest['id']}").tap()
    item = page.get_by_test_id(f"item-{first['submission_id']}")
    item.get_by_role("heading", name=first["title"]).wait_for()
    item.locator("textarea").fill("此经验很好，请市发改委牵头推广。")
    item.get_by_role("button", name="提交批示").tap()
    page.get_by_role("status").filter(has_text="批示已提交").wait_for()
    item.get_by_text("此经验很好，请市发改委牵头推广。").wait_for()

    mine = [
        i
        for i in api.get(f"/api/v1/journal-issues/{newest['id']}/")["instructions"]
        if i["leader"]["id"] == api.id
    ]
    assert [(i["submission_id"], i["text"]) for i in mine] == [
        (first["submission_id"], "此经验很好，请市发改委牵头推广。")
    ]
