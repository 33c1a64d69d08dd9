"""The phone app a leader keeps: reading offline, 已办 that tells the story, undoing a
stray tap, buttons on one line in 大字模式, signing out leaves nothing behind.

Docs: docs/pwa.md#reading-offline, #screens, #sessions. Debian's Chromium at a phone
viewport against a real server (tests/pwa/conftest.py); outcomes checked through the
API and the browser's own storage.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy.helpers import http
from tests.pwa.helpers import Person, sign_in
from tests.pwa.server import CHROMIUM, PHONE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"
    ),
]


@pytest.fixture(scope="module")
def documents(server):
    """Four more demo documents (a 会签 task each for leader1–3), the first rendered."""
    ids = server.seed_tasks(4)
    server.render(ids[0])
    return ids


def _approve(person: Person, task_id: int, opinion: str) -> None:
    status, body = http(
        "POST",
        f"{person.base}/api/v1/tasks/{task_id}/approve/",
        {"opinion": opinion},
        headers={**person.headers, "Idempotency-Key": f"test-approve-{task_id}"},
    )
    assert status == 200, body


def test_a_task_opened_once_reads_offline_with_its_page_images(server, documents, phone):
    leader = Person(server.base, "leader1")
    task = leader.task_for(documents[0])
    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    page.goto(server.base + f"/#/tasks/{task['id']}")
    page.locator(".page-img img").first.wait_for()  # online: the first page image
    page.locator(".trail-opinion").first.wait_for()

    # No network for the API any more (as in flight mode; the app shell is the SW's).
    page.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    page.goto(server.base + "/#/todo")
    page.get_by_test_id(f"task-{task['id']}").wait_for()
    page.goto(server.base + f"/#/tasks/{task['id']}")
    page.get_by_role("status").filter(has_text="离线").first.wait_for()
    assert page.locator("h1").inner_text() == task["document"]["title"]
    page.locator(".trail-opinion").first.wait_for()  # the trail
    image = page.locator(".page-img img").first
    image.wait_for()
    assert image.get_attribute("src").startswith("blob:")
    assert page.evaluate("el => el.naturalWidth", image.element_handle()) > 0
    page.get_by_role("button", name="看文字").tap()  # the document's own paragraphs
    assert page.locator(".doc-body p").count() >= 2


def test_the_to_do_list_fetches_ahead_without_marking_tasks_read(server, documents, phone):
    leader = Person(server.base, "leader2")
    task = leader.task_for(documents[0])
    assert task["unread"] is True
    page = phone.new_page()
    sign_in(page, server.base, "leader2")
    page.get_by_test_id(f"task-{task['id']}").wait_for()
    # The task, its page list and its first two page images are kept: the reading index
    # (written after each copy is in the cache) says so. A synchronous check: a predicate
    # returning a Promise would satisfy wait_for_function at once (a Promise is truthy).
    page.wait_for_function(
        """([user, task, doc]) => {
             const index = JSON.parse(localStorage.getItem('govdesk.reading.' + user) || '{}')
             const urls = (index[task] || { urls: [] }).urls
             return urls.includes(`/api/v1/tasks/${task}/`)
               && urls.includes(`/api/v1/documents/${doc}/pages/`)
               && urls.filter(u => u.includes(`/documents/${doc}/pages/`)
                                   && u.includes('/image/')).length >= 2
           }""",
        arg=[leader.id, task["id"], documents[0]],
    )
    kept = page.evaluate(
        """user => caches.open('govdesk-reading-' + user)
             .then(c => c.keys()).then(keys => keys.map(r => new URL(r.url).pathname))""",
        leader.id,
    )
    assert f"/api/v1/tasks/{task['id']}/" in kept
    assert f"/api/v1/documents/{documents[0]}/pages/" in kept
    assert leader.task_for(documents[0])["unread"] is True  # fetched, not opened
    page.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    page.goto(server.base + f"/#/tasks/{task['id']}")
    page.locator(".page-img img").first.wait_for()


def test_a_copy_the_index_lost_is_indexed_again_when_the_list_loads(server, documents, phone):
    # store() writes the copy, then the index: a reload between the two (the list left
    # mid fetch-ahead) leaves a kept copy the index does not list. The next fetch-ahead
    # indexes it instead of skipping it as kept (so trim can drop it and reading finds it).
    leader = Person(server.base, "leader1")
    task = leader.task_for(documents[1])
    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    page.get_by_test_id(f"task-{task['id']}").wait_for()
    indexed = """([user, task]) => ((JSON.parse(localStorage.getItem('govdesk.reading.' + user)
                   || '{}')[task] || {}).urls || []).includes(`/api/v1/tasks/${task}/`)"""
    page.wait_for_function(indexed, arg=[leader.id, task["id"]])
    page.evaluate(
        """([user, task]) => { const key = 'govdesk.reading.' + user
             const index = JSON.parse(localStorage.getItem(key)); delete index[task]
             localStorage.setItem(key, JSON.stringify(index)) }""",
        [leader.id, task["id"]],
    )
    page.reload()
    page.get_by_test_id(f"task-{task['id']}").wait_for()
    page.wait_for_function(indexed, arg=[leader.id, task["id"]])


def test_done_rows_tell_the_story_and_survive_going_back(server, documents, phone):
    leader = Person(server.base, "leader3")
    task = leader.task_for(documents[1])
    _approve(leader, task["id"], "同意，请抓紧落实。\n另请报送落实情况。")
    page = phone.new_page()
    sign_in(page, server.base, "leader3")
    page.get_by_role("tab", name="已办").tap()
    row = page.get_by_test_id(f"task-{task['id']}")
    row.wait_for()
    assert row.locator(".decision").inner_text() == "同意"
    assert row.locator(".opinion").inner_text() == "同意，请抓紧落实。"  # the first line
    assert re.fullmatch(r"\d+月\d+日 \d\d:\d\d", row.locator(".acted-at").inner_text())

    page.get_by_role("searchbox").fill(task["document"]["title"][:6])
    row.tap()
    page.locator(".trail-opinion").first.wait_for()
    page.get_by_text("返回").tap()
    row.wait_for()  # back on 已办, the row still there, the search kept
    assert page.get_by_role("tab", name="已办").get_attribute("aria-selected") == "true"
    assert page.get_by_role("searchbox").input_value() == task["document"]["title"][:6]


def test_undo_cancels_a_one_tap_approval_and_nothing_is_sent(server, documents, phone):
    leader = Person(server.base, "leader1")
    task = leader.task_for(documents[2])
    page = phone.new_page()
    page.clock.install()
    sent: list[str] = []
    page.on("request", lambda r: "/approve/" in r.url and sent.append(r.url))
    sign_in(page, server.base, "leader1")
    row = page.get_by_test_id(f"task-{task['id']}")
    row.get_by_role("button", name="同意").tap()
    bar = page.get_by_test_id("undo-bar")
    bar.wait_for()
    row.wait_for(state="detached")  # held out of the list during the window
    bar.get_by_role("button", name="撤销").tap()
    page.get_by_text("已撤销，未发送").wait_for()
    row.wait_for()  # back in the list
    page.clock.fast_forward("00:30")  # well past any undo window
    assert sent == []
    assert leader.task_for(documents[2])["state"] == "open"
    assert leader.approvals_by_me(documents[2]) == []

    # With the window off in 我的, the tap goes at once.
    page.goto(server.base + "/#/me")
    page.get_by_test_id("undo-seconds").select_option("0")
    page.goto(server.base + "/#/todo")
    row.get_by_role("button", name="同意").tap()
    row.wait_for(state="detached")
    assert page.get_by_test_id("undo-bar").count() == 0
    assert len(leader.approvals_by_me(documents[2])) == 1


# The lines a button's words take: 1 when the words stay on one line.
BUTTON_LINES = """() => [...document.querySelectorAll('.van-button__text')]
  .filter(el => el.offsetParent !== null && el.textContent.trim())
  .map(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    return [el.textContent.trim(), tops.size];
  })
  .filter(([, lines]) => lines > 1)"""


@pytest.mark.parametrize("size", ["1", "2"])
def test_large_text_keeps_every_button_on_one_line_at_360_px(server, documents, browser, size):
    leader = Person(server.base, "leader2")
    task = leader.task_for(documents[3])
    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 740}})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, server.base, "leader2")
        page.goto(server.base + "/#/me")
        page.get_by_test_id("text-size").select_option(size)
        page.wait_for_function("() => document.documentElement.classList.contains('large-font')")
        for route, ready in (
            ("/#/todo", f"[data-testid='task-{task['id']}']"),
            (f"/#/tasks/{task['id']}", ".action-bar"),
            ("/#/me", ".section-title"),
            ("/#/notifications", ".live"),
        ):
            page.goto(server.base + route)
            page.locator(ready).first.wait_for()
            assert page.evaluate(BUTTON_LINES) == [], (size, route)
    finally:
        context.close()


STORED = """async () => {
  const keys = Object.keys(localStorage).filter(k => k.startsWith('govdesk.'));
  const cacheNames = (await caches.keys()).filter(n => n.startsWith('govdesk-reading'));
  const queued = await new Promise((resolve) => {
    const open = indexedDB.open('govdesk', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('outbox', { keyPath: 'key' });
    open.onsuccess = () => {
      const all = open.result.transaction('outbox').objectStore('outbox').getAll();
      all.onsuccess = () => { resolve(all.result.length); open.result.close(); };
    };
    open.onerror = () => resolve(-1);
  });
  return { keys: keys.sort(), cacheNames, queued };
}"""


def test_sign_out_asks_first_and_leaves_no_user_data_on_the_phone(server, documents, phone):
    leader = Person(server.base, "leader3")
    task = leader.task_for(documents[3])
    page = phone.new_page()
    sign_in(page, server.base, "leader3")
    page.get_by_test_id(f"task-{task['id']}").wait_for()
    # Something of every kind kept: the list, a kept task, and a queued approval.
    page.goto(server.base + f"/#/tasks/{task['id']}")
    page.locator(".trail-opinion").first.wait_for()
    page.goto(server.base + "/#/me")
    page.get_by_test_id("undo-seconds").select_option("0")
    page.goto(server.base + "/#/todo")
    page.route("**/approve/", lambda route: route.abort("internetdisconnected"))
    page.get_by_test_id(f"task-{task['id']}").get_by_role("button", name="同意").tap()
    page.get_by_test_id(f"outbox-{task['id']}").wait_for()
    before = page.evaluate(STORED)
    assert before["queued"] == 1 and before["cacheNames"]
    assert f"govdesk.todo.{leader.id}" in before["keys"]

    page.goto(server.base + "/#/me")
    page.get_by_role("button", name="退出登录").tap()
    page.get_by_role("button", name="取消").tap()  # asked first; cancelling keeps all
    assert page.url.endswith("#/me")
    page.get_by_role("button", name="退出登录").tap()
    page.get_by_role("dialog").get_by_role("button", name="确认").tap()
    page.locator("#login-username").wait_for()
    after = page.evaluate(STORED)
    assert after == {
        "keys": ["govdesk.largeFont", "govdesk.undoSeconds"],  # device settings only
        "cacheNames": [],
        "queued": 0,
    }
    assert leader.task_for(documents[3])["state"] == "open"  # nothing was sent


def test_an_ended_session_says_so_and_returns_to_the_page(server, documents, phone):
    leader = Person(server.base, "leader1")
    task = leader.task_for(documents[3])
    page = phone.new_page()
    sign_in(page, server.base, "leader1")
    page.goto(server.base + f"/#/tasks/{task['id']}")
    page.locator(".trail-opinion").first.wait_for()
    # Revoked on another device: every session of leader1 ends.
    status, _ = http(
        "POST",
        f"{leader.base}/api/v1/sessions/revoke-all/",
        {"keep_current": False},
        headers=leader.headers,
    )
    assert status == 200
    page.evaluate(
        "() => { const s = JSON.parse(localStorage.getItem('govdesk.session'));"
        " s.access = ''; localStorage.setItem('govdesk.session', JSON.stringify(s)) }"
    )
    page.reload()
    page.get_by_role("alert").filter(has_text="登录已失效，请重新登录").wait_for()
    page.locator("#login-username").fill("leader1")
    page.locator("#login-password").fill("GovDesk@2026")
    page.get_by_role("button", name="登录", exact=True).tap()
    page.locator(".trail-opinion").first.wait_for()
    assert page.url.endswith(f"#/tasks/{task['id']}")
