"""The clerk's drafting on the phone: 密级 fixed at 非涉密, 主送 and 抄送, a file attached
from the phone, the flow picker starting on the unit's usual template, the signer kept
out of 会签, and 我的发文 following the submitted document to its trail.

Docs: docs/pwa.md#drafting. Debian's Chromium at a phone viewport against a real server
(tests/pwa/conftest.py); outcomes checked through the API.
"""

from __future__ import annotations

import io
import urllib.parse

import pytest
from PIL import Image

from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _choose(page, step_name: str, person: str) -> None:
    """选择 on a step's row, find the person in the picker, 确定."""
    page.locator(".van-cell", has_text=step_name).get_by_role("button", name="选择").tap()
    page.get_by_role("searchbox").fill(person)
    page.locator(".van-popup .van-cell", has_text=person).first.tap()
    page.get_by_role("button", name="确定").tap()


def test_a_clerk_drafts_attaches_and_follows_the_document(server, phone):
    clerk = Person(server.base, "clerk")
    templates = clerk.get("/api/v1/workflow-templates/?direction=outgoing")["results"]
    usual = [t for t in templates if t["usual"]]
    assert len(usual) == 1  # the demo office has sent documents through its flow
    mayor = Person(server.base, "mayor").get("/api/v1/me/")["display_name"]
    leader = Person(server.base, "leader1").get("/api/v1/me/")["display_name"]
    title = "关于手机拟稿附件测试的通知"

    page = phone.new_page()
    sign_in(page, server.base, "clerk")
    page.goto(server.base + "/#/drafts")
    assert "非涉密" in page.get_by_test_id("draft-classification").inner_text()
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("主送", exact=True).fill("各区人民政府")
    page.get_by_label("抄送", exact=True).fill("市委办公室")
    page.get_by_label("正文", exact=True).fill("第一段。\n第二段。")
    page.get_by_role("button", name="保存并送审").tap()
    page.get_by_text(f"：{title}").wait_for()

    # The picker starts on the unit's usual flow (once the templates have arrived; the
    # heading shows before they do).
    from playwright.sync_api import expect

    expect(page.get_by_label("流程", exact=True)).to_have_value(str(usual[0]["id"]))

    # A file from the phone becomes an attachment of the draft.
    page.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_test_id("attachment").filter(has_text="现场照片.png").wait_for()

    # The signer cannot also countersign: the app says so and does not add them.
    _choose(page, "签发", mayor)
    _choose(page, "会签", mayor)
    page.get_by_text("会签人和签发人不能是同一人").wait_for()
    countersign_row = page.locator(".van-cell", has_text="会签")
    assert mayor not in countersign_row.inner_text()
    _choose(page, "会签", leader)
    page.get_by_role("button", name="送审", exact=True).tap()
    page.get_by_text("已送审").wait_for()

    found = clerk.get("/api/v1/documents/?mine=true&q=" + urllib.parse.quote(title))["results"]
    assert len(found) == 1
    document = clerk.get(f"/api/v1/documents/{found[0]['id']}/")
    assert document["status"] == "in_progress" and document["cc"] == "市委办公室"
    assert [a["name"] for a in document["attachments"]] == ["现场照片.png"]

    # 我的发文 follows it: status on the list, the trail behind it.
    row = page.get_by_test_id(f"sent-{document['id']}")
    row.wait_for()
    assert "流转中" in row.inner_text()
    row.tap()
    page.get_by_test_id("progress-entry").first.wait_for()
    assert "流转中" in page.get_by_test_id("progress-status").inner_text()
    assert page.url.endswith(f"#/documents/{document['id']}")
